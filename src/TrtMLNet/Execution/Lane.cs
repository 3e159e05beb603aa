using System.Collections.Concurrent;
using TrtMLNet.Backends;
using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>
/// One batch in flight on a device: a worker thread, a stream and device IO buffers. The worker takes
/// a job, queues its input copies, the execution and the output copies on the stream, waits for the
/// stream, and signals the job. While it waits, other lanes' copies and executions proceed, and the
/// cursors fill their next batches: that is where the overlap comes from.
///
/// A lane's IO buffers serve one job at a time (the worker runs jobs one after another and waits for
/// each to complete), so they need no fence; scratch is borrowed per execution from the arena, under
/// the arena's fence rules.
/// </summary>
internal sealed class Lane : IDisposable
{
    private const int TimerMarks = 4;

    /// <summary>
    /// How long a lane that took a job of <see cref="BatchJob.AllLanesTake"/> waits for the others: they may be busy
    /// with another model's batches. Past it the lane runs its job anyway: the others then reach theirs later.
    /// </summary>
    public static readonly TimeSpan TogetherWait = TimeSpan.FromSeconds(10);
    private readonly ExecutionPool _pool;
    private readonly Thread _thread;
    private DeviceBuffer? _io;
    private StreamTimer? _timer;

    public Lane(ExecutionPool pool, int index, BlockingCollection<BatchJob> queue)
    {
        _pool = pool;
        Index = index;
        pool.Device.MakeCurrent();
        Stream = pool.Device.CreateStream();
        _thread = new Thread(() => Work(queue))
        {
            IsBackground = true,
            Name = $"TrtMLNet lane {index} ({pool.Device})",
        };
        _thread.Start();
    }

    public int Index { get; }

    public DeviceStream Stream { get; }

    /// <summary>Bytes of device IO buffers this lane holds (zero on the CPU, where staging serves as IO).</summary>
    public long IoBytes => _io?.Bytes ?? 0;

    /// <summary>Grows the IO buffers; call only while the lane runs no job (the pool quiesces lanes first).</summary>
    public void EnsureIoCapacity(long bytes)
    {
        if (_pool.Device.SharesHostMemory || bytes <= IoBytes)
            return;
        _io?.Dispose();
        _io = null;
        _io = _pool.Device.AllocateDevice(bytes, $"IO buffers of lane {Index}");
    }

    private void Work(BlockingCollection<BatchJob> queue)
    {
        foreach (var job in queue.GetConsumingEnumerable())
        {
            // Before entering the job: a lane waiting here must not hold up a pause of the pool.
            if (job.AllLanesTake is { } together)
            {
                together.Signal();
                together.Wait(TogetherWait);
            }
            _pool.EnterJob();
            Exception? error = null;
            try
            {
                Run(job);
            }
            catch (Exception e)
            {
                error = e;
                // What the batch queued before it failed (its input copies, part of an execution) must be done
                // before its submitter reuses the staging.
                DrainQuietly();
            }
            finally
            {
                _pool.ExitJob();
            }
            job.Complete(error);
        }
    }

    private void Run(BatchJob job)
    {
        var started = job.CollectTimings ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        _pool.Device.MakeCurrent();
        var model = job.Model;
        var staging = job.Staging!.Pointer;
        var io = IoMemoryFor(job);

        // On the CPU the staging is the IO memory: there is nothing to upload.
        var uploads = _pool.Device.SharesHostMemory ? [] : job.Uploads;
        bool anyUpload = false;
        var turnFrom = DeviceTurnFrom.None;
        foreach (var upload in uploads)
        {
            if (upload is null)
                continue;
            upload.Prepare(Index);
            anyUpload = true;
            turnFrom = (DeviceTurnFrom)Math.Max((int)turnFrom, (int)upload.TurnFrom(Index));
        }
        if (job.CollectTimings)
        {
            job.Timings.QueuedMs = System.Diagnostics.Stopwatch.GetElapsedTime(job.SubmittedAt, started).TotalMilliseconds;
            // Zero where there was nothing to do, so that reports leave those stages out.
            job.Timings.PrepareMs = anyUpload ? System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds : 0;
            job.Timings.TurnWaitMs = 0;
        }
        // Held until the batch is complete, past the end of this method's last statement.
        using var turnForUpload = turnFrom == DeviceTurnFrom.Upload ? TakeTurn(job) : default(DeviceTurn.Held?);

        var timer = job.CollectTimings ? _timer ??= Stream.CreateTimer(TimerMarks) : null;
        timer?.Mark(0);
        var inputs = new TensorBuffer[job.Inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = job.Inputs[i].At(io);
            var host = job.Inputs[i].At(staging).Data;
            if (i < uploads.Length && uploads[i] is { } upload)
                upload.Upload(Stream, inputs[i].Data, host, Index);
            else
                Stream.CopyToDevice(inputs[i].Data, host, inputs[i].Bytes);
        }
        var outputs = job.Outputs.Select(o => o.At(io)).ToArray();
        // Before the mark, so that the compute's time leaves out the wait (the upload's time then includes it).
        using var turnForCompute = turnFrom == DeviceTurnFrom.Compute ? TakeTurn(job) : default(DeviceTurn.Held?);
        timer?.Mark(1);

        var context = model.Contexts.Rent(job.Profiles);
        var completed = false;
        try
        {
            var scratchNeed = model.ScratchNeed(context.Context.Profile);
            // The lease's Dispose places the fence right after the execution: see ScratchArena.
            using (var lease = model.SharesScratch && scratchNeed > 0 ? _pool.Arena.Acquire(Stream, scratchNeed) : null)
            {
                context.Context.Enqueue(new ExecutionRequest
                {
                    Inputs = inputs,
                    Outputs = outputs,
                    Stream = Stream,
                    Scratch = lease?.Pointer ?? context.OwnScratch?.Pointer ?? IntPtr.Zero,
                    ScratchBytes = lease?.Bytes ?? context.OwnScratch?.Bytes ?? 0,
                });
            }
            timer?.Mark(2);
            foreach (var output in job.Outputs)
                Stream.CopyToHost(output.At(staging).Data, output.At(io).Data, output.Bytes);
            timer?.Mark(3);
            Stream.WaitForCompletion();
            completed = true;
        }
        finally
        {
            // Only with the stream's work complete may the context serve another lane: after a failure too, since
            // an execution may have queued part of its work before it failed.
            if (!completed)
                DrainQuietly();
            model.Contexts.Return(context);
        }

        if (timer is not null)
        {
            job.Timings.LaneMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            job.Timings.HostToDeviceMs = timer.Elapsed(0, 1);
            job.Timings.ComputeMs = timer.Elapsed(1, 2);
            job.Timings.DeviceToHostMs = timer.Elapsed(2, 3);
        }
    }

    /// <summary>Waits for the lane's stream on an error path, ignoring what it reports: the batch's own error is the one thrown.</summary>
    private void DrainQuietly()
    {
        try
        {
            Stream.WaitForCompletion();
        }
        catch (Exception)
        {
            // The batch's own error is the one reported.
        }
    }

    private DeviceTurn.Held TakeTurn(BatchJob job)
    {
        var asked = job.CollectTimings ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var held = _pool.DeviceTurn.Take();
        if (job.CollectTimings)
            job.Timings.TurnWaitMs = System.Diagnostics.Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
        return held;
    }

    /// <summary>The device memory laid out as the job's batch: the staging itself on the CPU, the IO buffers on a GPU.</summary>
    private IntPtr IoMemoryFor(BatchJob job)
    {
        if (_pool.Device.SharesHostMemory)
            return job.Staging!.Pointer;
        var end = job.Inputs.Concat(job.Outputs).Select(t => t.Offset + t.Bytes).DefaultIfEmpty(0).Max();
        if (end > IoBytes)
            throw new InvalidOperationException(
                $"Lane {Index} has {Bytes.Format(IoBytes)} of IO buffers but a batch needs {Bytes.Format(end)}: its model was not registered for this batch size.");
        return _io!.Pointer;
    }

    /// <summary>Waits for the worker to drain and stop; the queue must have been completed first.</summary>
    public void Dispose()
    {
        _thread.Join();
        _pool.Device.MakeCurrent();
        _timer?.Dispose();
        _io?.Dispose();
        Stream.Dispose();
    }
}
