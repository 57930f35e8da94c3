using TorchSharp;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class PeftAdapterTests
{
    [Fact]
    public void Export_then_import_into_a_fresh_model_reproduces_the_adapted_outputs()
    {
        using var model = TestModels.Micro();
        model.AttachLora(new LoraConfig(Rank: 4, Alpha: 8, TargetModules: ["q_proj", "v_proj", "down_proj"]));
        using (no_grad()) foreach (var (_, p) in model.LoraParameters()) p.normal_(0, 0.3);
        var dir = TestModels.TempDirectory("peft");
        PeftAdapter.Save(model, dir, baseModelName: "tiny-base");

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(8, config["lora_alpha"]!.GetValue<double>());
        Assert.Equal("tiny-base", config["base_model_name_or_path"]!.GetValue<string>());

        var header = SafeTensorsFile.ReadHeader(Path.Combine(dir, "adapter_model.safetensors"));
        var a = header["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"];
        var b = header["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"];
        Assert.Equal([4L, model.Config.HiddenSize], a.Shape);           // (r, in)
        Assert.Equal([(long)model.Config.HiddenSize, 4L], b.Shape);     // (out, r)
        Assert.Equal(2 * 3 * model.Config.NumHiddenLayers, header.Count);

        using var fresh = LanguageModel.Load(model.Directory);
        PeftAdapter.Load(fresh, dir);
        var input = tensor(new long[] { 9, 8, 7, 6, 5 }).unsqueeze(0);
        using var _ = no_grad();
        Assert.True(model.Network.Forward(input).eq(fresh.Network.Forward(input)).all().ToBoolean());
    }

    [Theory]
    [InlineData("{garbage")]
    [InlineData("[1, 2]")]
    public void A_config_that_is_not_a_JSON_object_is_refused_naming_the_file(string text)
    {
        var dir = TestModels.TempDirectory("peft-bad-config");
        File.WriteAllText(Path.Combine(dir, PeftAdapter.ConfigFile), text);
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.ReadConfig(dir));
        Assert.Contains(Path.Combine(dir, PeftAdapter.ConfigFile), e.Message);
    }

    [Fact]
    public void Importing_an_adapter_of_another_rank_is_refused_with_both_shapes()
    {
        using var model = TestModels.Micro();
        model.AttachLora(new LoraConfig(Rank: 2));
        var dir = TestModels.TempDirectory("peft-rank");
        PeftAdapter.Save(model, dir);
        using var other = LanguageModel.Load(model.Directory);
        other.AttachLora(new LoraConfig(Rank: 3));
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(other, dir));
        Assert.Contains("rank 2", e.Message);
        Assert.Contains("rank 3", e.Message);
    }
}
