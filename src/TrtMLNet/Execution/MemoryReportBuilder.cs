namespace TrtMLNet.Execution;

/// <summary>Reads a device pool's memory into a <see cref="MemoryReport"/>.</summary>
internal static class MemoryReportBuilder
{
    public static MemoryReport Create(ExecutionPool pool)
    {
        var info = pool.Device.MemoryInfo();
        return new MemoryReport
        {
            Device = pool.Device.Name,
            Engines = pool.Models.Select(EngineOf).ToList(),
            LaneIoBytes = pool.Lanes.Select(l => l.IoBytes).ToList(),
            ScratchSlabs = pool.Arena.SlabCount,
            ScratchSlabBytes = pool.Arena.SlabBytes,
            PinnedHostBytes = pool.Staging.AllocatedBytes,
            MeasuredDeviceBytes = info is { } i && pool.Device.BaselineFreeBytes is { } baseline ? baseline - i.Free : null,
            DeviceTotalBytes = info?.Total,
        };
    }

    private static EngineMemory EngineOf(ModelRuntime model)
    {
        var attached = model.AttachedMemory;
        return new EngineMemory
        {
            Model = model.Settings.ModelName,
            Backend = model.Engine.Description,
            WeightsStatedBytes = model.Engine.Weights.Stated,
            WeightsMeasuredBytes = model.Engine.Weights.Measured,
            SharesScratch = model.SharesScratch,
            DecoderDeviceBytes = attached.DeviceBytes,
            DecoderPinnedHostBytes = attached.PinnedHostBytes,
            Contexts = model.Contexts.All.Select((c, i) => new ContextMemory
            {
                Index = i,
                Profile = c.Context.Profile,
                PersistentBytes = c.Context.PersistentBytes,
                ScratchNeedBytes = model.Engine.ScratchBytes(c.Context.Profile),
                OwnScratchBytes = c.OwnScratch?.Bytes,
            }).ToList(),
        };
    }
}
