using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Models;

/// <summary>Llama-3 style RoPE frequency scaling (<c>rope_scaling.rope_type = "llama3"</c>).</summary>
public sealed record RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>
/// The subset of a Hugging Face <c>config.json</c> that the decoder needs. Names follow the HF
/// fields; <see cref="Architecture"/> selects the per-family details (Qwen2 q/k/v bias, Qwen3 q/k norm).
/// </summary>
public sealed record ModelConfig(
    string Architecture,
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    int HeadDim,
    double RmsNormEps,
    double RopeTheta,
    RopeScaling? RopeScaling,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    bool AttentionBias,
    bool QkvBias,
    bool QkNorm,
    int? BosTokenId,
    int[] EosTokenIds,
    string TorchDtype)
{
    public const string Llama = "LlamaForCausalLM";
    public const string Qwen2 = "Qwen2ForCausalLM";
    public const string Qwen3 = "Qwen3ForCausalLM";
    public static readonly string[] SupportedArchitectures = [Llama, Qwen2, Qwen3];

    /// <summary>Parses <c>config.json</c>; an unknown architecture or missing field names itself.</summary>
    public static ModelConfig Parse(string json, string source)
    {
        JsonObject o;
        try { o = JsonNode.Parse(json)!.AsObject(); }
        catch (Exception e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
        var arch = o["architectures"]?.AsArray().FirstOrDefault()?.GetValue<string>()
            ?? throw new InvalidDataException($"{source}: field 'architectures' is missing; expected one of {string.Join(", ", SupportedArchitectures)}.");
        if (!SupportedArchitectures.Contains(arch))
            throw new NotSupportedException($"{source}: architecture '{arch}' is not supported; supported: {string.Join(", ", SupportedArchitectures)}.");

        int Req(string name) => o[name]?.GetValue<int>() ?? throw new InvalidDataException($"{source}: required field '{name}' is missing.");
        var hidden = Req("hidden_size");
        var heads = Req("num_attention_heads");
        RopeScaling? scaling = null;
        if (o["rope_scaling"] is JsonObject rs)
        {
            var type = (rs["rope_type"] ?? rs["type"])?.GetValue<string>();
            if (type == "llama3")
                scaling = new RopeScaling(rs["factor"]!.GetValue<double>(), rs["low_freq_factor"]!.GetValue<double>(),
                    rs["high_freq_factor"]!.GetValue<double>(), rs["original_max_position_embeddings"]!.GetValue<int>());
            else if (type is not null and not "default")
                throw new NotSupportedException($"{source}: rope_scaling type '{type}' is not supported (only 'llama3' and 'default').");
        }
        int[] eos = o["eos_token_id"] switch
        {
            JsonArray a => a.Select(x => x!.GetValue<int>()).ToArray(),
            JsonValue v => [v.GetValue<int>()],
            _ => [],
        };
        return new ModelConfig(
            arch,
            Req("vocab_size"),
            hidden,
            Req("intermediate_size"),
            Req("num_hidden_layers"),
            heads,
            o["num_key_value_heads"]?.GetValue<int>() ?? heads,
            o["head_dim"]?.GetValue<int>() ?? hidden / heads,
            o["rms_norm_eps"]?.GetValue<double>() ?? 1e-6,
            o["rope_theta"]?.GetValue<double>() ?? 10000.0,
            scaling,
            o["max_position_embeddings"]?.GetValue<int>() ?? 2048,
            o["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            // Llama: attention_bias puts a bias on q, k, v and o; Qwen2 always biases q, k, v (not o).
            arch != Qwen2 && (o["attention_bias"]?.GetValue<bool>() ?? false),
            arch == Qwen2 || (o["attention_bias"]?.GetValue<bool>() ?? false),
            arch == Qwen3,
            o["bos_token_id"]?.GetValue<int?>(),
            eos,
            o["torch_dtype"]?.GetValue<string>() ?? "float32");
    }

    public static ModelConfig Load(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: config.json is missing; is this a Hugging Face model folder?");
        return Parse(File.ReadAllText(path), path);
    }

    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = Architecture switch { Qwen2 => "qwen2", Qwen3 => "qwen3", _ => "llama" },
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = Architecture == Qwen2 ? QkvBias : AttentionBias,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = TorchDtype,
        };
        if (BosTokenId is int bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Length == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Length > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        if (RopeScaling is { } rs)
            o["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = rs.Factor, ["low_freq_factor"] = rs.LowFreqFactor,
                ["high_freq_factor"] = rs.HighFreqFactor, ["original_max_position_embeddings"] = rs.OriginalMaxPositionEmbeddings,
            };
        return o.ToJsonString(new() { WriteIndented = true });
    }

    /// <summary>Parameters of the base model (embeddings counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            long q = (long)NumAttentionHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim, h = HiddenSize;
            long attn = h * q + 2 * h * kv + q * h + (QkvBias ? q + 2 * kv : 0) + (AttentionBias ? h : 0) + (QkNorm ? 2 * HeadDim : 0);
            long mlp = 3 * h * IntermediateSize;
            long layer = attn + mlp + 2 * h;
            return NumHiddenLayers * layer + (long)VocabSize * h * (TieWordEmbeddings ? 1 : 2) + h;
        }
    }
}
