namespace BatchScoring;

/// <summary>
/// A problem with what the user asked for (a missing file, an unknown extension, columns that do not
/// fit the model): reported as one red line, never with a stack trace.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
