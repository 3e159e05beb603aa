namespace TrtMLNet.Native.Cuda;

/// <summary>
/// Entry to the CUDA driver: initializes it once and tells, in words a user can act on, why no GPU
/// can be used (driver library missing, no device, driver too old), instead of letting a
/// DllNotFoundException or a crash reach them.
/// </summary>
internal static class CudaDriver
{
    private static readonly Lazy<InitResult> s_init = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lock s_devicesLock = new();
    private static readonly Dictionary<int, CudaDevice> s_devices = [];

    private sealed record InitResult(bool Available, int DeviceCount, int DriverVersion, string? Reason);

    /// <summary>Whether the driver loaded and at least one device answered; otherwise why not.</summary>
    public static bool IsAvailable(out string? reason)
    {
        var init = s_init.Value;
        reason = init.Reason;
        return init.Available;
    }

    public static int DeviceCount => s_init.Value.DeviceCount;

    /// <summary>The driver's CUDA version as an int, e.g. 13000 for CUDA 13.0; 0 when no driver.</summary>
    public static int DriverVersion => s_init.Value.DriverVersion;

    /// <summary>The device with this ordinal; throws <see cref="CudaException"/> saying why when it cannot be used.</summary>
    public static CudaDevice GetDevice(int ordinal)
    {
        var init = s_init.Value;
        if (!init.Available)
            throw new CudaException(CudaError.NoDevice, "CUDA_ERROR_NO_DEVICE", $"GPU {ordinal} was asked for, but {init.Reason}");
        if (ordinal < 0 || ordinal >= init.DeviceCount)
            throw new CudaException(CudaError.InvalidDevice, "CUDA_ERROR_INVALID_DEVICE",
                $"GPU {ordinal} was asked for, but this machine has {init.DeviceCount} CUDA device(s) (valid ids: 0..{init.DeviceCount - 1}).");
        lock (s_devicesLock)
        {
            if (!s_devices.TryGetValue(ordinal, out var device))
                s_devices[ordinal] = device = new CudaDevice(ordinal);
            return device;
        }
    }

    private static InitResult Initialize()
    {
        var library = string.Join(" or ", NativeLibraries.CudaDriverFileNames);
        try
        {
            var result = CudaDriverApi.cuInit(0);
            if (result != CudaError.Success)
            {
                var (name, text) = CudaCheck.Describe(result);
                var hint = result == CudaError.NoDevice
                    ? "the NVIDIA driver is installed but sees no GPU"
                    : "the NVIDIA driver could not start";
                return new(false, 0, 0, $"{hint}: cuInit returned {name} ({text}).");
            }
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuDriverGetVersion(out var version), "cuDriverGetVersion");
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceGetCount(out var count), "cuDeviceGetCount");
            if (count == 0)
                return new(false, 0, version, "the NVIDIA driver reports no CUDA device.");
            return new(true, count, version, null);
        }
        catch (DllNotFoundException)
        {
            return new(false, 0, 0, $"the CUDA driver library ({library}) is not installed: install the NVIDIA driver for your GPU.");
        }
        catch (EntryPointNotFoundException e)
        {
            return new(false, 0, 0, $"the CUDA driver library ({library}) is too old for this library: {e.Message}");
        }
        catch (CudaException e)
        {
            return new(false, 0, 0, e.Message);
        }
    }
}
