using System.Runtime.ExceptionServices;
using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// Decodes JPEGs with nvJPEG's decoupled API on many host threads at once: each image's Huffman decoding on
/// a thread of the pool, its transfer and the rest (IDCT, colour conversion) as kernels on one of the
/// decoder's streams. Unlike the hardware backend's batched call, nothing here waits for other work on the
/// device, so a lane decodes while another lane's engine runs (measured on the H200: 9,500 JPEGs of 500 x
/// 375 per second on 14 threads, docs/results/nvjpeg-threads-probe-h200.md).
///
/// nvJPEG's states, buffers and bitstream handles are not thread safe (its documentation, "Thread Safety"),
/// so each worker takes a pair of slots for as long as it runs and alternates them: one image's host phase
/// overlaps the previous image's device phase. The lanes of a device share one decoder, so its slots are as
/// many as workers ever ran at once, not lanes x threads (each slot's buffers grow to the largest image it
/// decoded).
///
/// Few streams, not one per worker: two per call (per lane decoding at once). Beyond the device's hardware
/// queues (8 by default) streams share queues and wait for each other's work, which the probe saw as decodes
/// held up by unrelated work on 12 or more streams.
/// </summary>
internal sealed unsafe class NvJpegDecoupledDecoder : IDisposable
{
    private const int StreamsPerCall = 2;
    private readonly CudaDevice _device;
    private readonly NvJpegLibraryHandle _library;
    private readonly NvJpegDecoder _decoder;
    private readonly OwnedResources _owned = new();
    // Workers of every caller take a pair of slots while they run and give it back: the pairs are as many as
    // workers ever ran at once, whichever lanes they decoded for (not lanes x threads).
    private readonly FreeList<SlotPair> _pairs;
    // A call's streams and events, its own while it runs: a lane's later work then waits for its own decodes
    // only, not for another lane's queued on the same stream. As many as calls ever ran at once (the lanes).
    private readonly FreeList<CallStreams> _calls;

    /// <summary>
    /// Made on <paramref name="library"/> (a handle of any backend); <paramref name="threads"/> workers at most per
    /// call, each on a thread of the pool. Calls may come from several lanes at once.
    /// </summary>
    public NvJpegDecoupledDecoder(CudaDevice device, NvJpegLibraryHandle library, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _device = device;
        _library = library;
        Threads = threads;
        try
        {
            _decoder = _owned.Add(NvJpegDecoder.Create(library, NvJpegBackend.Default));
            _calls = _owned.Add(new FreeList<CallStreams>(() => new CallStreams(_device)));
            // After the streams, so freed before them: a slot waits for its last work, on one of them, as it goes.
            _pairs = _owned.Add(new FreeList<SlotPair>(() => new SlotPair(_library, _decoder, _device)));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Workers at most per call.</summary>
    public int Threads { get; }

    /// <summary>Pairs of slots made so far: the most workers that ever ran at once.</summary>
    public int SlotPairs
    {
        get => _pairs.All.Count;
    }

    /// <summary>
    /// The slots' pinned and device buffers, as nvJPEG reported them after each slot's last image: they grow to the
    /// largest image a slot decoded and stay so. The states' own allocations are not counted: nvJPEG does not report them.
    /// </summary>
    public HeldMemory Held
    {
        get => _pairs.All.Aggregate(new HeldMemory(), (sum, pair) => sum + pair.Held);
    }

    /// <summary>
    /// Decodes <paramref name="images"/>[<paramref name="which"/>[j]] into <paramref name="destinations"/>[j]
    /// (RGBI, device memory) for every j, and makes <paramref name="stream"/> wait for all of it: work enqueued
    /// on <paramref name="stream"/> after this call sees the pixels. Returns each image's status, and for a
    /// failure the nvJPEG call that failed. The destinations must be free to write now (nothing queued still
    /// reads them); the images' bytes must stay untouched until <paramref name="stream"/> passes this point.
    /// </summary>
    public (NvJpegStatus Status, string Phase)[] Decode(IReadOnlyList<EncodedImage> images, IReadOnlyList<int> which, IReadOnlyList<NvJpegImage> destinations,
        IntPtr stream)
    {
        var results = new (NvJpegStatus, string)[which.Count];
        if (which.Count == 0)
            return results;
        int next = -1;
        int workers = Math.Min(Threads, which.Count);
        var call = _calls.Take();
        Exception? failure = null;
        try
        {
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
            {
                // A pair only for a worker that has an image: one that starts late makes none for nothing.
                int j = Interlocked.Increment(ref next);
                if (j >= which.Count)
                    return;
                _device.MakeCurrent();
                var workStream = call.Streams[worker % StreamsPerCall].Pointer;
                var pair = _pairs.Take();
                try
                {
                    for (int used = 0; j < which.Count; j = Interlocked.Increment(ref next), used++)
                        results[j] = pair[used].Decode(_library.Pointer, _decoder.Pointer, images[which[j]], destinations[j], workStream);
                }
                finally
                {
                    _pairs.Return(pair);
                }
            });
        }
        catch (Exception e)
        {
            failure = e is AggregateException all ? all.InnerExceptions[0] : e;
        }
        finally
        {
            // Even after a failure: whatever was enqueued is then ordered before the caller's later work. The wait
            // takes the events as recorded now, so they can serve another call at once. The first error is the
            // one thrown: a failed stream fails these calls too.
            for (int s = 0; s < StreamsPerCall; s++)
            {
                try
                {
                    call.Done[s].Record(call.Streams[s]);
                    CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamWaitEvent(stream, call.Done[s].Pointer, 0), "cuStreamWaitEvent");
                }
                catch (CudaException e)
                {
                    failure ??= e;
                }
            }
            _calls.Return(call);
        }
        if (failure is not null)
            ExceptionDispatchInfo.Capture(failure).Throw();
        return results;
    }

    /// <summary>
    /// Waits until no work this decoder enqueued is running (before freeing what it reads or writes): every
    /// stream, even after one fails; the first failure is thrown then.
    /// </summary>
    public void WaitIdle()
    {
        CudaException? failure = null;
        foreach (var stream in _calls.All.SelectMany(c => c.Streams))
        {
            try
            {
                stream?.Synchronize();
            }
            catch (CudaException e)
            {
                failure ??= e;
            }
        }
        if (failure is not null)
            ExceptionDispatchInfo.Capture(failure).Throw();
    }

    public void Dispose()
    {
        try
        {
            WaitIdle();
        }
        catch (CudaException)
        {
            // A failed stream reports its error here too; freeing is still right.
        }
        // In reverse order of making: the slots, the streams, then the decoder they were made for.
        _owned.Dispose();
    }

    /// <summary>
    /// One call's streams, and the events that end its work on each for the caller's stream to wait on. Freed
    /// with the decoder, which is disposed only once no lane decodes any more.
    /// </summary>
    private sealed class CallStreams : IDisposable
    {
        private readonly OwnedResources _owned = new();

        public CallStreams(CudaDevice device)
        {
            try
            {
                for (int s = 0; s < StreamsPerCall; s++)
                {
                    Streams[s] = _owned.Add(device.CreateStream());
                    Done[s] = _owned.Add(device.CreateEvent());
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public CudaStream[] Streams { get; } = new CudaStream[StreamsPerCall];

        public CudaEvent[] Done { get; } = new CudaEvent[StreamsPerCall];

        public void Dispose() => _owned.Dispose();
    }

    /// <summary>Two slots a worker alternates: one image's host phase overlaps the previous one's device phase.</summary>
    private sealed class SlotPair : IDisposable
    {
        private readonly Slot _first, _second;

        public SlotPair(NvJpegLibraryHandle library, NvJpegDecoder decoder, CudaDevice device)
        {
            _first = new Slot(library, decoder, device);
            try
            {
                _second = new Slot(library, decoder, device);
            }
            catch
            {
                _first.Dispose();
                throw;
            }
        }

        /// <summary>The slot for a worker's <paramref name="used"/>-th image.</summary>
        public Slot this[int used] => (used & 1) == 0 ? _first : _second;

        public HeldMemory Held => _first.Held + _second.Held;

        public void Dispose()
        {
            _second.Dispose();
            _first.Dispose();
        }
    }

    /// <summary>
    /// One image at a time through the three phases: a state with its own pinned and device buffers, a
    /// bitstream handle, decode parameters, and an event marking the end of its last device phase, before
    /// which none of them is touched again.
    /// </summary>
    private sealed class Slot : IDisposable
    {
        private readonly NvJpegState _state;
        private readonly NvJpegPinnedBuffer _pinned;
        private readonly NvJpegDeviceBuffer _deviceBuffer;
        private readonly NvJpegStream _bitstream;
        private long _pinnedBytes, _deviceBytes;
        private readonly NvJpegDecodeParams _parameters;
        private readonly CudaEvent _done;
        private readonly OwnedResources _owned = new();

        public Slot(NvJpegLibraryHandle library, NvJpegDecoder decoder, CudaDevice device)
        {
            try
            {
                _state = _owned.Add(NvJpegState.Create(library, decoder));
                _state.Attach(_pinned = _owned.Add(NvJpegPinnedBuffer.Create(library)));
                _state.Attach(_deviceBuffer = _owned.Add(NvJpegDeviceBuffer.Create(library)));
                _bitstream = _owned.Add(NvJpegStream.Create(library));
                _parameters = _owned.Add(NvJpegDecodeParams.Create(library, NvJpegOutputFormat.Rgbi));
                _done = _owned.Add(device.CreateEvent());
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Its buffers after its last image; read by any thread.</summary>
        public HeldMemory Held => new(Volatile.Read(ref _deviceBytes), Volatile.Read(ref _pinnedBytes));

        public (NvJpegStatus, string) Decode(IntPtr library, IntPtr decoder, EncodedImage image, NvJpegImage destination, IntPtr stream)
        {
            var result = DecodePhases(library, decoder, image, destination, stream);
            // Here, on the one thread using the slot: the buffers are not thread safe, and the phases grow them.
            Volatile.Write(ref _pinnedBytes, _pinned.Bytes);
            Volatile.Write(ref _deviceBytes, _deviceBuffer.Bytes);
            return result;
        }

        private (NvJpegStatus, string) DecodePhases(IntPtr library, IntPtr decoder, EncodedImage image, NvJpegImage destination, IntPtr stream)
        {
            _done.Synchronize();
            // save_stream = 0: nvJPEG reads the caller's bytes, which stay put until the stream has passed the batch.
            var status = NvJpegApi.nvjpegJpegStreamParse(library, (byte*)image.Data, (nuint)image.Length, 0, 0, _bitstream.Pointer);
            if (status != NvJpegStatus.Success)
                return (status, "nvjpegJpegStreamParse");
            status = NvJpegApi.nvjpegDecodeJpegHost(library, decoder, _state.Pointer, _parameters.Pointer, _bitstream.Pointer);
            if (status != NvJpegStatus.Success)
                return (status, "nvjpegDecodeJpegHost");
            try
            {
                status = NvJpegApi.nvjpegDecodeJpegTransferToDevice(library, decoder, _state.Pointer, _bitstream.Pointer, stream);
                if (status != NvJpegStatus.Success)
                    return (status, "nvjpegDecodeJpegTransferToDevice");
                status = NvJpegApi.nvjpegDecodeJpegDevice(library, decoder, _state.Pointer, &destination, stream);
                return (status, "nvjpegDecodeJpegDevice");
            }
            finally
            {
                CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventRecord(_done.Pointer, stream), "cuEventRecord");
            }
        }

        public void Dispose()
        {
            try
            {
                _done?.Synchronize();
            }
            catch (CudaException)
            {
                // Freeing is still right.
            }
            _owned.Dispose();
        }
    }
}
