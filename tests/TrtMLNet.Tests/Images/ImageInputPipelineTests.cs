using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Images;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// Image inputs through ApplyTensorRt on the CPU: a column of paths or encoded bytes feeds an image tensor,
/// decoded in batches into staging. The model is an identity, so its output is the tensor the images made,
/// compared with the image path's own decoder (itself checked against PIL and a reference resize).
/// </summary>
public class ImageInputPipelineTests
{
    private const int Side = 16;

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    private sealed class BytesRow
    {
        [VectorType] public byte[] Image { get; set; } = [];
    }

    private static string IdentityModel(string name, OnnxType type = OnnxType.Float) =>
        new OnnxModelBuilder().Input("image", type, "N", 3, Side, Side).Node("Identity", ["image"], ["pixels"]).Output("pixels", type, "N", 3, Side, Side)
            .Save(Path.Combine(TestModels.Folder, name));

    private static (string Folder, List<byte[]> Files) Images(string name, int count)
    {
        var folder = Path.Combine(TestModels.Folder, name);
        Directory.CreateDirectory(folder);
        var files = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var bytes = i % 3 == 2 ? TestImages.Png(TestImages.Draw(40 + i, 30, seed: i)) : TestImages.Jpeg(TestImages.Draw(50, 37 + i, seed: i));
            File.WriteAllBytes(Path.Combine(folder, $"img_{i:D3}.jpg"), bytes);
            files.Add(bytes);
        }
        return (folder, files);
    }

    private static float[] Expected(ImageInputOptions options, byte[] encoded)
    {
        var layout = ImageTensorLayout.Create(options, "image", "float", [-1, 3, Side, Side]);
        var row = new byte[layout.RowBytes];
        new CpuImageDecoder(layout).Decode(encoded, "expected", row);
        return MemoryMarshal.Cast<byte, float>(row).ToArray();
    }

    private static List<float[]> Score(IDataView data, TensorRtOptions options)
    {
        using var model = new MLContext().Transforms.ApplyTensorRt(options).Fit(data);
        return model.Transform(data).GetColumn<VBuffer<float>>("pixels").Select(v => v.DenseValues().ToArray()).ToList();
    }

    [Fact]
    public void A_column_of_paths_feeds_the_image_tensor_in_batches_with_the_imagenet_preprocessing()
    {
        var (folder, files) = Images("paths", 11);
        var image = ImageInputOptions.ImageNet("Path");
        image.ResizeTo = 20;
        image.Width = image.Height = Side;
        image.ImageFolder = folder;
        var data = new MLContext().Data.LoadFromEnumerable(files.Select((_, i) => new PathRow { Path = $"img_{i:D3}.jpg" }).ToList());

        var rows = Score(data, new TensorRtOptions { ModelFile = IdentityModel("image-identity.onnx"), BatchSize = 4 }
            .WithImage("image", image));

        Assert.Equal(files.Count, rows.Count);
        for (var i = 0; i < files.Count; i++)
            Assert.Equal(Expected(image, files[i]), rows[i]);
    }

    [Fact]
    public void A_column_of_encoded_bytes_feeds_a_float16_tensor()
    {
        var (_, files) = Images("bytes", 5);
        var image = new ImageInputOptions { Column = "Image", Resize = ImageResize.Stretch };
        var data = new MLContext().Data.LoadFromEnumerable(files.Select(f => new BytesRow { Image = f }).ToList());

        var rows = Score(data, new TensorRtOptions { ModelFile = IdentityModel("image-identity-fp16.onnx", OnnxType.Float16), BatchSize = 2 }.WithImage("image", image));

        for (var i = 0; i < files.Count; i++)
        {
            var expected = Expected(image, files[i]);
            // float16 keeps 11 bits: values in [0, 1] are within 2^-11 of the float.
            Assert.All(expected.Zip(rows[i]), p => Assert.InRange(p.Second - p.First, -1f / 2048, 1f / 2048));
        }
    }

    [Fact]
    public void A_bad_image_stops_the_batch_naming_the_file_or_is_skipped_and_reported()
    {
        var (folder, files) = Images("bad", 4);
        File.WriteAllBytes(Path.Combine(folder, "img_001.jpg"), files[1][..(files[1].Length / 2)]);
        var data = new MLContext().Data.LoadFromEnumerable(files.Select((_, i) => new PathRow { Path = Path.Combine(folder, $"img_{i:D3}.jpg") }).ToList());
        var model = IdentityModel("image-identity-bad.onnx");

        var error = Assert.Throws<ImageDecodeException>(() => Score(data, new TensorRtOptions { ModelFile = model }.WithImage("image", new ImageInputOptions { Column = "Path" })));
        Assert.Contains("img_001.jpg", error.Message);

        var skip = new ImageInputOptions { Column = "Path", OnBadImage = BadImagePolicy.Skip };
        using var transformer = new MLContext().Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = model }.WithImage("image", skip)).Fit(data);
        var rows = transformer.Transform(data).GetColumn<VBuffer<float>>("pixels").Select(v => v.DenseValues().ToArray()).ToList();
        Assert.Equal(4, rows.Count);
        var skipped = Assert.Single(transformer.SkippedImages);
        Assert.Equal(1, skipped.Row);
        Assert.Contains("img_001.jpg", skipped.Source);
        Assert.All(rows[1], v => Assert.Equal(0f, v));
        Assert.Contains(rows[2], v => v != 0f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_large_jpeg_cut_in_its_image_data_is_skipped_with_the_imagenet_preset(bool reducedDecode)
    {
        var folder = Path.Combine(TestModels.Folder, $"cut-{reducedDecode}");
        Directory.CreateDirectory(folder);
        var paths = new List<PathRow>();
        for (var i = 0; i < 6; i++)
        {
            var bytes = TestImages.Jpeg(TestImages.Photo(500, 375, seed: 900 + i), 90);
            if (i == 4)
                bytes = bytes[..(bytes.Length * 2 / 3)];
            var path = Path.Combine(folder, $"img_{i}.jpg");
            File.WriteAllBytes(path, bytes);
            paths.Add(new PathRow { Path = path });
        }
        var image = ImageInputOptions.ImageNet("Path");
        image.Width = image.Height = Side;
        image.ResizeTo = Side + 2;
        image.ReducedDecode = reducedDecode;
        image.OnBadImage = BadImagePolicy.Skip;
        var data = new MLContext().Data.LoadFromEnumerable(paths);

        using var transformer = new MLContext().Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = IdentityModel("image-identity-cut.onnx"), BatchSize = 4 }
            .WithImage("image", image)).Fit(data);
        var rows = transformer.Transform(data).GetColumn<VBuffer<float>>("pixels").Count();

        Assert.Equal(6, rows);
        Assert.Equal(4, Assert.Single(transformer.SkippedImages).Row);
    }

    [Fact]
    public void An_image_column_of_the_wrong_type_or_missing_is_refused_at_fit()
    {
        var data = new MLContext().Data.LoadFromEnumerable(new[] { new { Path = 3f } });
        var options = new TensorRtOptions { ModelFile = IdentityModel("image-identity-types.onnx") };

        var wrongType = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Transforms.ApplyTensorRt(options.WithImage("image", new ImageInputOptions { Column = "Path" })).Fit(data));
        Assert.Contains("'Path'", wrongType.Message);
        var missing = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Transforms.ApplyTensorRt(options.WithImage("image", new ImageInputOptions { Column = "Photo" })).Fit(data));
        Assert.Contains("'Photo'", missing.Message);
        var notAnInput = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Transforms.ApplyTensorRt(options.WithImage("picture", new ImageInputOptions { Column = "Path" })).Fit(data));
        Assert.Contains("'picture'", notAnInput.Message);
    }
}
