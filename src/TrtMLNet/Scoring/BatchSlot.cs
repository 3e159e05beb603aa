using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// Staging for one batch and the job that runs it. Rows are written at their place in the model's
/// <see cref="BatchLayout"/>; outputs come back to the same staging.
/// </summary>
internal sealed class BatchSlot(int index, FittedModel model)
{
    public int Index { get; } = index;

    public BatchJob Job { get; } = new() { Model = model.Runtime, Uploads = new Device.IDeviceUpload?[model.Shapes.Inputs.Count] };

    /// <summary>Rows read into this slot for its current batch.</summary>
    public int Rows { get; set; }

    public void EnsureStaging() =>
        Job.Staging ??= model.Runtime.Pool.Staging.Rent(model.Layout.TotalBytes);

    /// <summary>Writes the current row of every input column as row <paramref name="row"/> of the batch.</summary>
    public void FillRow(int row, InputFiller[] fillers, long position)
    {
        for (var i = 0; i < fillers.Length; i++)
        {
            var input = model.Shapes.Inputs[i];
            if (row == 0)
                fillers[i].BeginBatch(this);
            fillers[i].Fill(Bytes(model.Layout.InputOffsets[i] + row * input.RowBytes, input.RowBytes), row, position);
        }
    }

    /// <summary>Ends a batch of <paramref name="rows"/> rows: image inputs decode here, every core at once.</summary>
    public void FinishFill(InputFiller[] fillers, int rows)
    {
        foreach (var filler in fillers)
            filler.FinishBatch(this, rows);
        PadAfter(rows);
    }

    /// <summary>
    /// A model that only takes full batches gets zeros after the last row read, which are harmless to
    /// any layer; their outputs are never served.
    /// </summary>
    public void PadAfter(int rows)
    {
        if (model.Shapes.BatchKind != BatchKind.Fixed || rows >= model.Shapes.BatchSize)
            return;
        for (var i = 0; i < model.Shapes.Inputs.Count; i++)
        {
            var rowBytes = model.Shapes.Inputs[i].RowBytes;
            Bytes(model.Layout.InputOffsets[i] + rows * rowBytes, (model.Shapes.BatchSize - rows) * rowBytes).Clear();
        }
    }

    /// <summary>Row <paramref name="row"/> of output <paramref name="output"/>, as it came back from the device.</summary>
    public Span<byte> OutputRow(int output, int row)
    {
        var rowBytes = model.Shapes.Outputs[output].RowBytes;
        return Bytes(model.Layout.OutputOffsets[output] + row * rowBytes, rowBytes);
    }

    private unsafe Span<byte> Bytes(long offset, long length) =>
        new((byte*)Job.Staging!.Pointer + offset, checked((int)length));
}
