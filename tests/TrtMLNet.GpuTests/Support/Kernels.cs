using System.Runtime.InteropServices;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.GpuTests.Support;

/// <summary>Launches the test kernels of kernels.ptx with their arguments packed as cuLaunchKernel wants.</summary>
internal static class Kernels
{
    /// <summary>Grid-stride kernels: a modest grid, so two launches can share the GPU at once.</summary>
    public static void Launch(IntPtr function, IntPtr stream, params object[] arguments) =>
        Launch(function, stream, (64, 1, 1), (256, 1, 1), arguments);

    public static void Launch(IntPtr function, IntPtr stream, (uint, uint, uint) grid, (uint, uint, uint) block, params object[] arguments)
    {
        var slots = new IntPtr[arguments.Length];
        try
        {
            for (var i = 0; i < arguments.Length; i++)
            {
                slots[i] = Marshal.AllocHGlobal(8);
                switch (arguments[i])
                {
                    case IntPtr p: Marshal.WriteIntPtr(slots[i], p); break;
                    case long l: Marshal.WriteInt64(slots[i], l); break;
                    case ulong u: Marshal.WriteInt64(slots[i], unchecked((long)u)); break;
                    case int n: Marshal.WriteInt32(slots[i], n); break;
                    default: throw new ArgumentException($"Kernel argument of type {arguments[i].GetType()} is not supported.");
                }
            }
            CudaModule.Launch(function, grid, block, stream, slots);
        }
        finally
        {
            foreach (var slot in slots)
                if (slot != IntPtr.Zero) Marshal.FreeHGlobal(slot);
        }
    }
}
