namespace TrtMLNet.Serving;

/// <summary>
/// The pool's queue already holds <see cref="PredictionPoolOptions.MaxQueue"/> requests: the request was
/// not queued. Retry later (a web endpoint answers 429 Too Many Requests), or raise MaxQueue.
/// </summary>
public sealed class PredictionPoolFullException(string poolName, int maxQueue)
    : Exception($"The prediction pool '{poolName}' is full: {maxQueue} requests are already waiting (PredictionPoolOptions.MaxQueue). Retry later.")
{
    public string PoolName { get; } = poolName;

    public int MaxQueue { get; } = maxQueue;
}

/// <summary>
/// Scoring this request's row failed. <see cref="Exception.InnerException"/> is the model's error. Only the
/// rows that fail alone get this: other rows of the same batch are rescored without them.
/// </summary>
public sealed class PredictionFailedException(string message, Exception inner) : Exception(message, inner);
