using Orleans.Rft.Engine.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class SafeTensorsTests
{
    [Theory]
    [InlineData(ScalarType.Float32, "F32")]
    [InlineData(ScalarType.BFloat16, "BF16")]
    [InlineData(ScalarType.Float16, "F16")]
    public void A_file_round_trips_values_shapes_and_dtype(ScalarType type, string name)
    {
        var dir = TestModels.TempDirectory("st");
        var path = Path.Combine(dir, "t.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = randn(3, 5).to(type),
            ["b"] = arange(7).to(type),
            ["scalar_row"] = ones(1, 1).to(type),
        };
        SafeTensorsFile.Save(path, tensors);
        Assert.Equal(name, SafeTensorsFile.ReadHeader(path)["a.weight"].DType);
        var loaded = SafeTensorsFile.Load(path);
        foreach (var (k, v) in tensors)
        {
            Assert.Equal(v.dtype, loaded[k].dtype);
            Assert.Equal(v.shape, loaded[k].shape);
            Assert.True(v.eq(loaded[k]).all().ToBoolean(), k);
        }
    }

    [Fact]
    public void A_sharded_folder_writes_an_index_and_loads_back_whole()
    {
        var dir = TestModels.TempDirectory("sharded");
        var tensors = Enumerable.Range(0, 5).ToDictionary(i => $"layer.{i}.weight", i => randn(64, 64));
        ShardedCheckpoint.Save(dir, tensors, maxShardBytes: 64 * 64 * 4 * 2);
        Assert.True(File.Exists(Path.Combine(dir, ShardedCheckpoint.IndexFile)));
        Assert.True(File.Exists(Path.Combine(dir, "model-00001-of-00003.safetensors")));
        var loaded = ShardedCheckpoint.Load(dir);
        Assert.Equal(5, loaded.Count);
        foreach (var (k, v) in tensors) Assert.True(v.eq(loaded[k]).all().ToBoolean(), k);
    }

    [Fact]
    public void A_corrupt_header_is_reported_with_the_file_name()
    {
        var dir = TestModels.TempDirectory("corrupt");
        var path = Path.Combine(dir, "bad.safetensors");
        var bytes = new byte[40];
        BitConverter.GetBytes(20L).CopyTo(bytes, 0);
        System.Text.Encoding.ASCII.GetBytes("{\"a\": {\"dtype\": \"F3").CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Load(path));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains("corrupt safetensors header", e.Message);

        BitConverter.GetBytes(1L << 40).CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("declared header length", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Load(path)).Message);
    }

    [Fact]
    public void A_truncated_file_is_reported_not_read_past_its_end()
    {
        var dir = TestModels.TempDirectory("trunc");
        var path = Path.Combine(dir, "t.safetensors");
        SafeTensorsFile.Save(path, new Dictionary<string, Tensor> { ["w"] = randn(100) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^40]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Load(path)).Message);
    }
}
