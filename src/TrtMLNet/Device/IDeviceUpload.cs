namespace TrtMLNet.Device;

/// <summary>
/// Writes one input tensor of a batch into device memory on a stream, in place of a plain copy of its
/// staging: a batch of JPEGs decoded on the device, say, so that only compressed bytes cross PCIe.
/// Whatever host memory it reads must stay untouched until the stream has passed this work.
/// </summary>
internal interface IDeviceUpload
{
    /// <summary>
    /// Host work for the batch that enqueues nothing on the device (reading image headers), done on the lane's
    /// thread before <see cref="Upload"/> and outside the device's turn.
    /// </summary>
    void Prepare(int lane);

    /// <summary>From which step a lane holds the device's turn for a batch with this upload (see <c>Execution.DeviceTurn</c>).</summary>
    DeviceTurnFrom TurnFrom(int lane);

    /// <param name="stream">The lane's stream; all work is queued on it.</param>
    /// <param name="destination">The tensor's place in the lane's device IO buffers.</param>
    /// <param name="staging">The tensor's place in the batch's host staging.</param>
    /// <param name="lane">The lane's index: per-lane resources (a decoder's state) are the lane's alone.</param>
    void Upload(DeviceStream stream, IntPtr destination, IntPtr staging, int lane);
}

/// <summary>From which step of a batch its lane holds the device's turn, until the batch is complete.</summary>
internal enum DeviceTurnFrom
{
    /// <summary>No turn: the lane's work overlaps other lanes' freely.</summary>
    None = 0,

    /// <summary>
    /// From the engine's execution: the upload works mostly on the host and beside other lanes' engines
    /// (nvJPEG's hybrid decoder), and the engines run one at a time, each at its full speed.
    /// </summary>
    Compute,

    /// <summary>
    /// From the upload: it makes a call that waits for all work queued on the device, whichever stream it is
    /// on (nvJPEG's hardware decoder).
    /// </summary>
    Upload,
}
