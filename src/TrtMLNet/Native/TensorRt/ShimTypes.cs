using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

// The shim's own enum values (trtmlnet_shim.h), never TensorRT's: TensorRT 10 and 11 renumber some of
// theirs, and the shim translates for the major it was built against.

/// <summary>trts_data_type. Unknown covers TensorRT types the shim has no name for (e.g. E8M0).</summary>
internal enum ShimDataType
{
    Unknown = 0,
    Float32 = 1,
    Float16 = 2,
    BFloat16 = 3,
    Int8 = 4,
    UInt8 = 5,
    Int32 = 6,
    Int64 = 7,
    Bool = 8,
    Fp8 = 9,
    Int4 = 10,
    Fp4 = 11,
}

/// <summary>trts_io_mode.</summary>
internal enum ShimIoMode
{
    None = 0,
    Input = 1,
    Output = 2,
}

/// <summary>trts_log_severity: TensorRT's ILogger::Severity; a larger value is less severe.</summary>
internal enum ShimLogSeverity
{
    InternalError = 0,
    Error = 1,
    Warning = 2,
    Info = 3,
    Verbose = 4,
}

/// <summary>trts_profile_selector: which bound of an optimization profile.</summary>
internal enum ShimProfileSelector
{
    Min = 0,
    Opt = 1,
    Max = 2,
}

/// <summary>trts_precision. FP16 and BF16 exist only on TensorRT 10; 11 takes precision from the model.</summary>
internal enum ShimPrecision
{
    Fp32 = 0,
    Fp16 = 1,
    Bf16 = 2,
}

/// <summary>trts_tactic_source bits.</summary>
[Flags]
internal enum ShimTacticSources : uint
{
    None = 0,
    /// <summary>TensorRT 10 only.</summary>
    Cublas = 1u << 0,
    /// <summary>TensorRT 10 only.</summary>
    CublasLt = 1u << 1,
    /// <summary>TensorRT 10 only.</summary>
    Cudnn = 1u << 2,
    EdgeMaskConvolutions = 1u << 3,
    JitConvolutions = 1u << 4,
}

/// <summary>trts_capability bits: what the TensorRT major the shim was built for can do.</summary>
[Flags]
internal enum ShimCapabilities : uint
{
    None = 0,
    /// <summary>FP16/BF16 precision flags exist (TensorRT 10).</summary>
    WeakTyping = 1u << 0,
    /// <summary>The engine states its weights size (getEngineStat, TensorRT 10.14+).</summary>
    EngineWeightsStat = 1u << 1,
}

// Layouts below match trtmlnet_shim.h on 64-bit platforms, the only ones TensorRT ships for; the shim
// static_asserts the same sizes and offsets on its side.

/// <summary>Inline storage for the eight dimensions of <see cref="ShimDims"/>.</summary>
[InlineArray(ShimDims.MaxDims)]
internal struct ShimDimsBuffer
{
    private long _element0;
}

/// <summary>trts_dims: nvinfer1::Dims64's layout (int32 count, 4 bytes padding, eight int64).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct ShimDims
{
    public const int MaxDims = 8;

    [FieldOffset(0)] public int NbDims;
    [FieldOffset(4)] public int Reserved;
    [FieldOffset(8)] public ShimDimsBuffer D;

    /// <summary>Packs a shape; ranks above eight cannot cross the ABI (TensorRT allows no more).</summary>
    public static ShimDims From(ReadOnlySpan<long> shape, string tensorName)
    {
        if (shape.Length > MaxDims)
            throw new ArgumentException(
                $"The shape given for '{tensorName}' has {shape.Length} dimensions; TensorRT allows at most {MaxDims}.", nameof(shape));
        var dims = new ShimDims { NbDims = shape.Length };
        shape.CopyTo(dims.D);
        return dims;
    }

    /// <summary>The dimensions as an array; a count outside 0..8 would mean a shim bug or a foreign layout.</summary>
    public readonly long[] ToArray()
    {
        if (NbDims is < 0 or > MaxDims)
            throw new TensorRtException(TensorRtErrorCode.Internal, "Reading dimensions from the TensorRT shim",
                $"nb_dims is {NbDims}, outside 0..{MaxDims}");
        ReadOnlySpan<long> all = D;
        return all[..NbDims].ToArray();
    }
}

/// <summary>trts_tensor_desc. <see cref="Name"/> points into the engine and lives as long as it does.</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
internal struct ShimTensorDesc
{
    [FieldOffset(0)] public IntPtr Name;
    [FieldOffset(8)] public ShimIoMode IoMode;
    [FieldOffset(12)] public ShimDataType DataType;
    [FieldOffset(16)] public int IsLinear;
    [FieldOffset(20)] public int OnDevice;
    [FieldOffset(24)] public ShimDims Shape;
}

/// <summary>trts_profile_shape: one input's min/opt/max in one optimization profile.</summary>
[StructLayout(LayoutKind.Explicit, Size = 224)]
internal struct ShimProfileShape
{
    [FieldOffset(0)] public IntPtr TensorName;
    [FieldOffset(8)] public ShimDims Min;
    [FieldOffset(80)] public ShimDims Opt;
    [FieldOffset(152)] public ShimDims Max;
}

/// <summary>trts_profile.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct ShimProfile
{
    [FieldOffset(0)] public int ShapeCount;
    [FieldOffset(8)] public IntPtr Shapes;
}

/// <summary>trts_build_options. <see cref="StructSize"/> lets the shim refuse a layout it was not built for.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct ShimBuildOptions
{
    [FieldOffset(0)] public int StructSize;
    [FieldOffset(4)] public ShimPrecision Precision;
    [FieldOffset(8)] public int AllowTf32;
    [FieldOffset(12)] public int OptimizationLevel;
    [FieldOffset(16)] public long WorkspaceBytes;
    [FieldOffset(24)] public ShimTacticSources TacticsEnable;
    [FieldOffset(28)] public ShimTacticSources TacticsDisable;
    [FieldOffset(32)] public int MaxAuxStreams;
    [FieldOffset(36)] public int ProfileCount;
    [FieldOffset(40)] public IntPtr Profiles;
    [FieldOffset(48)] public IntPtr TimingCache;
    [FieldOffset(56)] public nuint TimingCacheSize;
}
