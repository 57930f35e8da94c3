using System.Text.Json.Nodes;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class ModelLoadingTests
{
    static readonly Tensor Input = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);

    /// <summary>Writes the micro preset, then rewrites its config.json with <paramref name="edit"/>.</summary>
    static string MicroWith(Action<JsonObject> edit)
    {
        var dir = TestModels.TempDirectory("load");
        TinyModelPresets.Create("micro", dir).Dispose();
        var path = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
        return dir;
    }

    [Fact]
    public void An_unknown_architecture_is_named_in_the_error()
    {
        var dir = MicroWith(c => c["architectures"] = new JsonArray("GPT2LMHeadModel"));
        var e = Assert.Throws<NotSupportedException>(() => LanguageModel.Load(dir));
        Assert.Contains("GPT2LMHeadModel", e.Message);
        Assert.Contains("Qwen2ForCausalLM", e.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named_in_the_error()
    {
        var dir = MicroWith(_ => { });
        var file = Path.Combine(dir, "model.safetensors");
        var tensors = SafeTensorsFile.Load(file);
        tensors.Remove("model.layers.1.mlp.up_proj.weight");
        SafeTensorsFile.Save(file, tensors);
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight' is missing", e.Message);
    }

    [Fact]
    public void A_config_that_disagrees_with_the_weights_names_the_tensor_and_both_shapes()
    {
        var dir = MicroWith(c => c["intermediate_size"] = 96);
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("gate_proj.weight", e.Message);
        Assert.Contains("[64,32]", e.Message);
    }

    [Fact]
    public void Saving_in_bf16_and_sharded_then_loading_gives_the_bf16_rounded_weights()
    {
        using var model = TestModels.Micro();
        var dir = TestModels.TempDirectory("resave");
        model.SaveBase(dir, ScalarType.BFloat16, maxShardBytes: 20_000);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(model.Directory, f), Path.Combine(dir, f));
        Assert.True(File.Exists(Path.Combine(dir, ShardedCheckpoint.IndexFile)));
        using var loaded = LanguageModel.Load(dir);
        foreach (var ((name, a), (_, b)) in model.Network.BaseParameters().Zip(loaded.Network.BaseParameters()))
            Assert.True(a.to(ScalarType.BFloat16).to(ScalarType.Float32).eq(b).all().ToBoolean(), name);
    }

    [Theory]
    [InlineData(ModelConfig.Qwen2)]
    [InlineData(ModelConfig.Qwen3)]
    public void Qwen_variants_declare_their_extra_tensors(string architecture)
    {
        var config = TinyModelPresets.Presets["micro"] with { Architecture = architecture, QkvBias = architecture == ModelConfig.Qwen2, QkNorm = architecture == ModelConfig.Qwen3 };
        using var net = new CausalLM(config, ScalarType.Float32, CPU);
        var names = net.BaseParameters().Select(p => p.Name).ToHashSet();
        if (architecture == ModelConfig.Qwen2)
        {
            Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
            Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        }
        else
        {
            Assert.Contains("model.layers.0.self_attn.q_norm.weight", names);
            Assert.Contains("model.layers.0.self_attn.k_norm.weight", names);
        }
        using (no_grad()) foreach (var (_, p) in net.BaseParameters()) p.normal_(0, 0.02);
        using var _ = no_grad();
        Assert.False(net.Forward(Input).isnan().any().ToBoolean());
    }

    [Fact]
    public void Config_json_round_trips_llama3_rope_scaling_and_qwen2_bias()
    {
        var json = """
        {"architectures":["Qwen2ForCausalLM"],"vocab_size":100,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
         "num_attention_heads":4,"num_key_value_heads":2,"rope_theta":500000.0,"tie_word_embeddings":false,"eos_token_id":[7,8],
         "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}}
        """;
        var c = ModelConfig.Parse(json, "config.json");
        Assert.True(c.QkvBias);
        Assert.False(c.AttentionBias);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal([7, 8], c.EosTokenIds);
        var again = ModelConfig.Parse(c.ToJson(), "again");
        Assert.Equal(c.RopeScaling, again.RopeScaling);
        Assert.Equal(c.QkvBias, again.QkvBias);
    }
}
