namespace TrtMLNet.Serving;

/// <summary>Where a pool stands; its health check reports this.</summary>
public enum PredictionPoolStatus
{
    /// <summary>The model's warm-up batch is running; requests queue and wait for it.</summary>
    WarmingUp,

    /// <summary>Warmed up and serving.</summary>
    Ready,

    /// <summary>The model could not be warmed up; every request fails with the reason.</summary>
    Failed,

    /// <summary>Disposed: no new requests.</summary>
    Disposed,
}
