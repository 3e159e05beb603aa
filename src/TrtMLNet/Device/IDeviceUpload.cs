namespace TrtMLNet.Device;

/// <summary>
/// Writes one input tensor of a batch into device memory on a stream, in place of a plain copy of its
/// staging: a batch of JPEGs decoded on the device, say, so that only compressed bytes cross PCIe.
/// Whatever host memory it reads must stay untouched until the stream has passed this work.
/// </summary>
internal interface IDeviceUpload
{
    /// <param name="stream">The lane's stream; all work is queued on it.</param>
    /// <param name="destination">The tensor's place in the lane's device IO buffers.</param>
    /// <param name="staging">The tensor's place in the batch's host staging.</param>
    /// <param name="lane">The lane's index: per-lane resources (a decoder's state) are the lane's alone.</param>
    void Upload(DeviceStream stream, IntPtr destination, IntPtr staging, int lane);
}
