using System.Diagnostics.CodeAnalysis;
using Microsoft.ML;

namespace TrtMLNet;

/// <summary>
/// A row (a cursor) that can lend TrtMLNet the array behind a vector column's current value, so a large
/// input is copied once, straight into pinned staging, instead of first into a getter's buffer and then
/// into staging. ML.NET's getters cannot do this safely: whoever calls a getter owns the buffer it gets
/// back and may write into it later, so a source that put its own array there could see it changed.
/// TrtMLNet only reads a lent array, never keeps it past the cursor, and asks only where the copy is
/// worth saving: inputs of 256 KiB a row and more, read straight from the source (the TrtMLNet stage
/// first in the pipeline). TrtMLNet.Serving's pools lend their callers' arrays this way.
/// </summary>
public interface IRowArrayLender
{
    /// <summary>
    /// The array holding <paramref name="column"/>'s value for the current row, or false where the source
    /// cannot lend it (TrtMLNet then calls the getter). The source keeps the array unchanged until the
    /// cursor is disposed: TrtMLNet copies a batch's rows after its last row has been read.
    /// </summary>
    bool TryLend<T>(DataViewSchema.Column column, [NotNullWhen(true)] out T[]? values);
}
