using TrtMLNet.Onnx;

namespace TrtMLNet.Tests.Onnx;

/// <summary>float32 to float16 and bfloat16 bits: rounding, special values, clamping.</summary>
public class ReducedFloatTests
{
    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)] // 1.0
    [InlineData(0x3F808000u, (ushort)0x3F80)] // halfway, tie to the even 0x3F80
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway, tie to the even 0x3F82
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above halfway rounds up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below halfway rounds down
    [InlineData(0xBF808001u, (ushort)0xBF81)] // sign kept
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +inf
    [InlineData(0xFF800000u, (ushort)0xFF80)] // -inf
    [InlineData(0x80000000u, (ushort)0x8000)] // -0
    public void BFloat16RoundsToNearestEven(uint floatBits, ushort expected)
    {
        Assert.Equal(expected, ReducedFloat.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(floatBits), out var clamped));
        Assert.False(clamped);
    }

    [Fact]
    public void BFloat16MatchesTheNearestOfItsTwoNeighbours()
    {
        var random = new Random(11);
        for (var i = 0; i < 100_000; i++)
        {
            var value = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32));
            if (!float.IsFinite(value) || Math.Abs(value) > 3.38e38f || Math.Abs(value) < 1e-38f)
                continue;
            var below = BitConverter.SingleToUInt32Bits(value) >> 16;
            var down = BitConverter.UInt32BitsToSingle(below << 16);
            var up = BitConverter.UInt32BitsToSingle((below + 1) << 16);
            double distanceDown = Math.Abs((double)value - down), distanceUp = Math.Abs((double)up - value);
            var nearest = distanceDown < distanceUp || (distanceDown == distanceUp && below % 2 == 0) ? below : below + 1;
            Assert.Equal((ushort)nearest, ReducedFloat.ToBFloat16Bits(value, out _));
        }
    }

    [Fact]
    public void NaNStaysNaN()
    {
        var signalling = BitConverter.UInt32BitsToSingle(0x7F800001); // rounding its bits would give +inf
        Assert.True(float.IsNaN(signalling));
        var bits = ReducedFloat.ToBFloat16Bits(signalling, out _);
        Assert.Equal(0x7F80, bits & 0x7F80);
        Assert.NotEqual(0, bits & 0x007F);
        Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(ReducedFloat.ToFloat16Bits(float.NaN, out _))));
    }

    [Theory]
    [InlineData(70000f, (ushort)0x7BFF)] // above 65504: largest finite half, not inf
    [InlineData(-3.4e38f, (ushort)0xFBFF)]
    [InlineData(1e-9f, (ushort)0x0001)] // below the smallest subnormal: that subnormal, not 0
    [InlineData(-1e-12f, (ushort)0x8001)]
    public void Float16ClampsToFiniteAndNonZero(float value, ushort expected)
    {
        Assert.Equal(expected, ReducedFloat.ToFloat16Bits(value, out var clamped));
        Assert.True(clamped);
    }

    [Theory]
    [InlineData(float.MaxValue, (ushort)0x7F7F)] // rounds to inf otherwise
    [InlineData(float.MinValue, (ushort)0xFF7F)]
    [InlineData(1e-45f, (ushort)0x0001)] // the smallest float32 subnormal rounds to 0 otherwise
    public void BFloat16ClampsToFiniteAndNonZero(float value, ushort expected)
    {
        Assert.Equal(expected, ReducedFloat.ToBFloat16Bits(value, out var clamped));
        Assert.True(clamped);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.333f)]
    [InlineData(65504f)]
    [InlineData(6.1e-5f)]
    [InlineData(0f)]
    [InlineData(float.PositiveInfinity)]
    public void Float16IsTheRuntimesHalfWhereItIsFiniteAndNonZero(float value)
    {
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)value), ReducedFloat.ToFloat16Bits(value, out var clamped));
        Assert.False(clamped);
    }

    [Fact]
    public void FloatDataBecomesRawData()
    {
        var tensor = new TensorProto { Name = "t", DataType = (int)OnnxDataType.Float };
        tensor.Dims.Add(3);
        tensor.FloatData.AddRange([1f, -2f, 1e6f]);
        Assert.Equal(1, ReducedFloat.ConvertTensor(tensor, ReducedPrecision.Float16)); // 1e6 is over half's range
        Assert.Equal(OnnxDataType.Float16, tensor.ElementType);
        Assert.Empty(tensor.FloatData);
        Assert.Empty(tensor.Int32Data);
        Assert.Equal([0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B], tensor.RawData!.Value.ToArray());
    }

    [Fact]
    public void RawDataOfTheWrongLengthIsReported()
    {
        var tensor = new TensorProto { Name = "broken", DataType = (int)OnnxDataType.Float, RawData = new byte[6] };
        var error = Assert.Throws<InvalidDataException>(() => ReducedFloat.ConvertTensor(tensor, ReducedPrecision.Float16));
        Assert.Contains("'broken'", error.Message);
    }
}
