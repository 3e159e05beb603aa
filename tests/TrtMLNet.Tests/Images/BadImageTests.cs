using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>Every kind of bad image fails with an <see cref="ImageDecodeException"/> that names where it came from and says what is wrong.</summary>
public sealed class BadImageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("trtmlnet-bad-images-").FullName;
    private static readonly byte[] GoodJpeg = TestImages.Jpeg(TestImages.Draw(64, 48, seed: 21));
    private static readonly byte[] GoodPng = TestImages.Png(TestImages.Draw(64, 48, seed: 22));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, ImageDecodeFailure, string> BadFiles() => new()
    {
        { "truncated.jpg", ImageDecodeFailure.Truncated, "cut off" },
        { "truncated.png", ImageDecodeFailure.Truncated, "cut off" },
        { "header-only.jpg", ImageDecodeFailure.Corrupt, "header is damaged or cut off" },
        { "empty.jpg", ImageDecodeFailure.Empty, "empty (0 bytes)" },
        { "random.jpg", ImageDecodeFailure.NotAnImage, "not an image" },
        { "notes.txt", ImageDecodeFailure.NotAnImage, "text (it starts with \"cat,dog" },
        { "scan.tif", ImageDecodeFailure.NotAnImage, "TIFF" },
        { "photo.heic", ImageDecodeFailure.NotAnImage, "HEIF/AVIF" },
        { "missing.jpg", ImageDecodeFailure.Unreadable, "no such file" },
        { "a-folder", ImageDecodeFailure.Unreadable, "folder" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void AFileFailsNamingItsPathRowAndColumn(string file, ImageDecodeFailure failure, string words)
    {
        WriteBadFiles();
        var decoder = NewDecoder(BadImagePolicy.Fail);
        var e = Assert.Throws<ImageDecodeException>(() => DecodeFiles(decoder, "good.jpg", file));
        output.WriteLine(e.Message);
        Assert.Equal(failure, e.Failure);
        Assert.Contains(words, e.Message);
        Assert.Contains(Path.Combine(_folder, file), e.Message);
        Assert.Contains("row 101 of column 'ImagePath'", e.Message);
        Assert.Contains("OnBadImage = Skip", e.Message);
    }

    [Fact]
    public void BytesFailNamingTheirRowAndColumn()
    {
        var decoder = NewDecoder(BadImagePolicy.Fail);
        byte[] truncated = GoodJpeg[..(GoodJpeg.Length * 2 / 3)];
        var e = Assert.Throws<ImageDecodeException>(() => Decode(decoder,
            [ImageBatchItem.FromBytes(7, GoodPng, 0), ImageBatchItem.FromBytes(8, truncated, Layout.RowBytes)]));
        Assert.Equal(ImageDecodeFailure.Truncated, e.Failure);
        Assert.Equal("row 8 of column 'ImagePath'", e.ImageSource);
        Assert.StartsWith("Cannot use the image row 8 of column 'ImagePath': the JPEG ends before its last pixels", e.Message);
    }

    [Theory]
    [InlineData(500, 375, 2, 3, true)]
    [InlineData(500, 375, 2, 3, false)]
    [InlineData(500, 375, 9, 10, false)]
    [InlineData(1024, 768, 1, 2, true)]
    public void ALargePhotoCutInItsImageDataIsTruncated(int width, int height, int numerator, int denominator, bool reducedDecode)
    {
        // Large enough that the decoder's reduced (DCT-scaled) decode could stop early and miss the cut.
        var jpeg = TestImages.Jpeg(TestImages.DrawSmooth(width, height, seed: 5), quality: 90);
        byte[] truncated = jpeg[..(jpeg.Length * numerator / denominator)];
        var options = ImageInputOptions.ImageNet();
        options.ReducedDecode = reducedDecode;
        var decoder = new ImageBatchDecoder(TestImages.Layout(options, "float", ImageLayout.Nchw), "ImagePath", null, BadImagePolicy.Fail);
        var e = Assert.Throws<ImageDecodeException>(() => Decode(decoder, [ImageBatchItem.FromBytes(4, truncated, 0)]));
        Assert.Equal(ImageDecodeFailure.Truncated, e.Failure);
    }

    [Fact]
    public void AnEmptyPathIsAMissingImage()
    {
        var e = Assert.Throws<ImageDecodeException>(() => Decode(NewDecoder(BadImagePolicy.Fail), [ImageBatchItem.FromPath(3, null, 0)]));
        Assert.Equal(ImageDecodeFailure.Empty, e.Failure);
        Assert.Contains("row 3 of column 'ImagePath'", e.Message);
    }

    [Fact]
    public void SkipReportsEveryBadRowZeroesItsSlotAndDecodesTheRest()
    {
        WriteBadFiles();
        var files = new[] { "good.jpg" }.Concat(BadFiles().Select(row => row.Data.Item1)).Append("good.png").ToArray();
        var decoder = NewDecoder(BadImagePolicy.Skip);
        var (result, staging) = DecodeFiles(decoder, files);

        Assert.Equal(2, result.Decoded);
        Assert.Equal(files.Length - 2, result.BadImages.Count);
        foreach (var bad in result.BadImages)
        {
            Assert.Equal(100 + bad.Index, bad.Row);
            Assert.Contains(files[bad.Index], bad.Source);
            Assert.All(staging.AsSpan(bad.Index * Layout.RowBytes, Layout.RowBytes).ToArray(), b => Assert.Equal(0, b));
        }
        Assert.Equal(TestImages.Decode(Layout, GoodJpeg).Slot, staging.AsSpan(0, Layout.RowBytes).ToArray());
        Assert.Equal(TestImages.Decode(Layout, GoodPng).Slot, staging.AsSpan((files.Length - 1) * Layout.RowBytes, Layout.RowBytes).ToArray());
    }

    [Fact]
    public void AnImageTooLargeToDecodeIsRefusedBeforeDecoding()
    {
        // A PNG header that claims 20000 x 20000 pixels (400 million): refused from the header alone.
        byte[] png = GoodPng.ToArray();
        WriteBigEndian(png, 16, 20000);
        WriteBigEndian(png, 20, 20000);
        FixIhdrCrc(png);
        var e = Assert.Throws<ImageDecodeException>(() => TestImages.Decode(Layout, png));
        Assert.Equal(ImageDecodeFailure.Unsupported, e.Failure);
        Assert.Contains("20000 x 20000 pixels", e.Message);
    }

    [Fact]
    public void AShapeTheResizeCannotTakeIsThatImagesProblem()
    {
        // 40000 x 1 resized so its shorter side is 60000: the longer side would be 2.4 billion pixels.
        var sliver = TestImages.Png(TestImages.Draw(40000, 1, seed: 1));
        var layout = TestImages.Layout(new ImageInputOptions { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 60000, Width = 8, Height = 8 });
        var e = Assert.Throws<ImageDecodeException>(() => TestImages.Decode(layout, sliver));
        Assert.Equal(ImageDecodeFailure.Unsupported, e.Failure);
        Assert.Contains("too large", e.Message);
    }

    private static readonly ImageTensorLayout Layout = TestImages.Layout(new ImageInputOptions { Width = 32, Height = 24 }, "float", ImageLayout.Nchw);

    private ImageBatchDecoder NewDecoder(BadImagePolicy policy) => new(Layout, "ImagePath", _folder, policy);

    private void WriteBadFiles()
    {
        File.WriteAllBytes(Path.Combine(_folder, "good.jpg"), GoodJpeg);
        File.WriteAllBytes(Path.Combine(_folder, "good.png"), GoodPng);
        File.WriteAllBytes(Path.Combine(_folder, "truncated.jpg"), GoodJpeg[..(GoodJpeg.Length / 2)]);
        File.WriteAllBytes(Path.Combine(_folder, "truncated.png"), GoodPng[..(GoodPng.Length / 2)]);
        File.WriteAllBytes(Path.Combine(_folder, "header-only.jpg"), GoodJpeg[..20]);
        File.WriteAllBytes(Path.Combine(_folder, "empty.jpg"), []);
        var random = new byte[5000];
        new Random(3).NextBytes(random);
        random[0] = 0x00; // not by chance a signature
        File.WriteAllBytes(Path.Combine(_folder, "random.jpg"), random);
        File.WriteAllText(Path.Combine(_folder, "notes.txt"), "cat,dog,bird\nimages/1.jpg,0\n");
        File.WriteAllBytes(Path.Combine(_folder, "scan.tif"), [.. "II*\0"u8, .. new byte[200]]);
        File.WriteAllBytes(Path.Combine(_folder, "photo.heic"), [0, 0, 0, 0x18, .. "ftypheic"u8, .. new byte[200]]);
        Directory.CreateDirectory(Path.Combine(_folder, "a-folder"));
    }

    private (ImageBatchResult Result, byte[] Staging) DecodeFiles(ImageBatchDecoder decoder, params string[] files)
    {
        var items = files.Select((f, i) => ImageBatchItem.FromPath(100 + i, f, (long)i * Layout.RowBytes)).ToList();
        return Decode(decoder, items);
    }

    private static unsafe (ImageBatchResult Result, byte[] Staging) Decode(ImageBatchDecoder decoder, IReadOnlyList<ImageBatchItem> items)
    {
        var staging = GC.AllocateArray<byte>(items.Count * decoder.Layout.RowBytes, pinned: true);
        staging.AsSpan().Fill(0xFF); // so a slot left alone or half written shows
        fixed (byte* p = staging)
            return (decoder.Decode(items, (IntPtr)p, staging.Length), staging);
    }

    private static void WriteBigEndian(byte[] bytes, int offset, int value)
    {
        bytes[offset] = (byte)(value >> 24);
        bytes[offset + 1] = (byte)(value >> 16);
        bytes[offset + 2] = (byte)(value >> 8);
        bytes[offset + 3] = (byte)value;
    }

    // The IHDR chunk (type at 12, 13 bytes of data at 16) carries a CRC-32 over its type and data.
    private static void FixIhdrCrc(byte[] png)
    {
        uint crc = 0xFFFFFFFF; // CRC-32 as PNG defines it (ISO 3309), bit by bit
        foreach (byte b in png.AsSpan(12, 17))
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        WriteBigEndian(png, 29, (int)~crc);
    }
}
