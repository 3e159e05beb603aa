namespace TrtMLNet;

/// <summary>
/// An image that could not be decoded and was skipped (<see cref="BadImagePolicy.Skip"/>): its row was
/// scored on zeros, so its outputs must not be trusted.
/// </summary>
/// <param name="Row">The row's position in the scored data.</param>
/// <param name="Source">The file, or the row and column the bytes came from.</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record SkippedImage(long Row, string Source, string Reason);
