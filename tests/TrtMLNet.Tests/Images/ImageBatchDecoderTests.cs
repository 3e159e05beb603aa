using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>A batch decoded in parallel is the images decoded one by one, each in its own slot, from paths or bytes.</summary>
public sealed class ImageBatchDecoderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("trtmlnet-batch-images-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(-1)]
    public unsafe void EachSlotHoldsItsOwnImage(int threads)
    {
        var layout = TestImages.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        var images = Enumerable.Range(0, 24).Select(i =>
        {
            var drawn = TestImages.Draw(180 + 7 * i, 140 + 5 * (i % 4), seed: i);
            return i % 3 == 0 ? TestImages.Png(drawn) : TestImages.Jpeg(drawn);
        }).ToList();
        for (int i = 0; i < images.Count; i += 2)
            File.WriteAllBytes(Path.Combine(_folder, $"{i}.img"), images[i]);

        // Even rows come from files, odd rows from bytes; the slots are laid out with a gap and in reverse.
        long slot = layout.RowBytes + 64;
        var items = images.Select((bytes, i) => i % 2 == 0
            ? ImageBatchItem.FromPath(i, $"{i}.img", (images.Count - 1 - i) * slot)
            : ImageBatchItem.FromBytes(i, bytes, (images.Count - 1 - i) * slot)).ToList();
        var staging = GC.AllocateArray<byte>((int)(images.Count * slot), pinned: true);
        ImageBatchResult result;
        fixed (byte* p = staging)
            result = new ImageBatchDecoder(layout, "image", _folder, BadImagePolicy.Fail, threads).Decode(items, (IntPtr)p, staging.Length);

        Assert.Equal(images.Count, result.Decoded);
        Assert.Empty(result.BadImages);
        for (int i = 0; i < images.Count; i++)
        {
            var expected = TestImages.Decode(layout, images[i]).Slot;
            Assert.True(expected.AsSpan().SequenceEqual(staging.AsSpan((int)((images.Count - 1 - i) * slot), layout.RowBytes)), $"image {i}");
            Assert.All(staging.AsSpan((int)((images.Count - 1 - i) * slot) + layout.RowBytes, 64).ToArray(), b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public unsafe void ReducedDecodesAreCounted()
    {
        var layout = TestImages.Layout(new ImageInputOptions { Width = 64, Height = 64 });
        var big = TestImages.Jpeg(TestImages.Draw(400, 300, seed: 1));
        var small = TestImages.Jpeg(TestImages.Draw(100, 80, seed: 2));
        var items = new[] { big, small, big }.Select((b, i) => ImageBatchItem.FromBytes(i, b, i * layout.RowBytes)).ToList();
        var staging = GC.AllocateArray<byte>(3 * layout.RowBytes, pinned: true);
        fixed (byte* p = staging)
            Assert.Equal(2, new ImageBatchDecoder(layout, "image", null, BadImagePolicy.Fail).Decode(items, (IntPtr)p, staging.Length).ReducedDecodes);
    }

    [Fact]
    public unsafe void SlotsOutsideTheStagingMemoryAreRefused()
    {
        var layout = TestImages.Layout(new ImageInputOptions { Width = 8, Height = 8 });
        var staging = new byte[layout.RowBytes];
        var decoder = new ImageBatchDecoder(layout, "image", null, BadImagePolicy.Fail);
        fixed (byte* p = staging)
        {
            var pointer = (IntPtr)p;
            var e = Assert.Throws<ArgumentException>(() => decoder.Decode([ImageBatchItem.FromBytes(5, new byte[1], 1)], pointer, staging.Length));
            Assert.Contains("Row 5", e.Message);
        }
    }
}
