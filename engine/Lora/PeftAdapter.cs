using System.Text.Json.Nodes;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Lora;

/// <summary>
/// Export and import of a LoRA adapter in the PEFT layout, loadable by HF PEFT and vLLM:
/// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> with tensors named
/// <c>base_model.model.{module}.lora_A.weight</c> (r, in) and <c>….lora_B.weight</c> (out, r).
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    const string Prefix = "base_model.model.";

    public static void Save(LanguageModel model, string directory, string? baseModelName = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var lora = model.Lora ?? throw new InvalidOperationException("the model has no adapter to export.");
        System.IO.Directory.CreateDirectory(directory);
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModelName ?? model.Directory,
            ["r"] = lora.Rank,
            ["lora_alpha"] = lora.Alpha,
            ["lora_dropout"] = lora.Dropout,
            ["target_modules"] = new JsonArray(lora.Targets.Select(t => (JsonNode)t).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["modules_to_save"] = null,
            ["layers_to_transform"] = null,
            ["revision"] = null,
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new() { WriteIndented = true }));
        var tensors = model.LoraParameters().ToDictionary(p => Prefix + p.Name + ".weight", p => p.Parameter.detach().cpu());
        try { SafeTensorsFile.Save(Path.Combine(directory, WeightsFile), tensors, metadata); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>Reads adapter_config.json into a <see cref="LoraConfig"/>.</summary>
    public static LoraConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: {ConfigFile} is missing; is this a PEFT adapter folder?");
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object; a PEFT adapter_config.json is one."); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}); rewrite it (rft export writes one).", e); }
        if (o["peft_type"]?.GetValue<string>() is string type && type != "LORA")
            throw new NotSupportedException($"{path}: peft_type '{type}' is not supported (LORA only).");
        if (o["use_dora"]?.GetValue<bool>() == true) throw new NotSupportedException($"{path}: DoRA adapters are not supported.");
        var targets = o["target_modules"] switch
        {
            JsonArray a => a.Select(x => x!.GetValue<string>()).ToList(),
            JsonValue v => [v.GetValue<string>()],
            _ => throw new InvalidDataException($"{path}: field 'target_modules' is missing."),
        };
        return new LoraConfig(
            o["r"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: field 'r' is missing."),
            o["lora_alpha"]?.GetValue<double>() ?? 8,
            o["lora_dropout"]?.GetValue<double>() ?? 0,
            targets);
    }

    /// <summary>
    /// The A (r, in) and B (out, r) tensors of every targeted projection of <paramref name="network"/>,
    /// by module path, as stored (the caller converts and moves them). Every targeted projection must
    /// be present with its shape; the caller disposes the tensors.
    /// </summary>
    public static Dictionary<string, (Tensor A, Tensor B)> ReadWeights(string directory, CausalLM network, LoraConfig config)
    {
        var path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: {WeightsFile} is missing.");
        var tensors = SafeTensorsFile.Load(path);
        var result = new Dictionary<string, (Tensor A, Tensor B)>();
        try
        {
            foreach (var (module, layer) in network.Projections())
            {
                if (!config.Targets.Contains(module[(module.LastIndexOf('.') + 1)..])) continue;
                var a = Take(tensors, path, module + ".lora_A", [config.Rank, layer.InFeatures]);
                var b = Take(tensors, path, module + ".lora_B", [layer.OutFeatures, config.Rank]);
                result[module] = (a, b);
            }
            return result;
        }
        catch
        {
            foreach (var (a, b) in result.Values) { a.Dispose(); b.Dispose(); }
            throw;
        }
        finally
        {
            foreach (var (name, t) in tensors)
                if (!result.Values.Any(w => ReferenceEquals(w.A, t) || ReferenceEquals(w.B, t))) t.Dispose();
        }
    }

    static Tensor Take(Dictionary<string, Tensor> tensors, string path, string name, long[] shape)
    {
        var key = Prefix + name + ".weight";
        if (!tensors.TryGetValue(key, out var t) && !tensors.TryGetValue(Prefix + name + ".default.weight", out t))
            throw new InvalidDataException($"{path}: tensor '{key}' is missing.");
        if (!t.shape.SequenceEqual(shape))
            throw new InvalidDataException($"{path}: tensor '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", shape)}].");
        return t;
    }

    /// <summary>
    /// Loads adapter weights into the model, attaching an adapter of the saved shape first if the
    /// model has none. Every adapter tensor of the model must be present, with its shape.
    /// </summary>
    public static void Load(LanguageModel model, string directory)
    {
        var config = ReadConfig(directory);
        if (model.Lora is null) model.AttachLora(config);
        else if (model.Lora.Rank != config.Rank || !model.Lora.Targets.Order().SequenceEqual(config.Targets.Order()))
            throw new InvalidDataException($"{directory}: adapter has rank {config.Rank} on [{string.Join(",", config.Targets)}] but the model's adapter has rank {model.Lora.Rank} on [{string.Join(",", model.Lora.Targets)}].");
        var path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: {WeightsFile} is missing.");
        var tensors = SafeTensorsFile.Load(path);
        try
        {
            using var _ = no_grad();
            foreach (var (name, parameter) in model.LoraParameters())
            {
                var key = Prefix + name + ".weight";
                if (!tensors.TryGetValue(key, out var source) && !tensors.TryGetValue(key.Replace(".weight", ".default.weight"), out source))
                    throw new InvalidDataException($"{path}: tensor '{key}' is missing.");
                if (!source.shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"{path}: tensor '{key}' has shape [{string.Join(",", source.shape)}], expected [{string.Join(",", parameter.shape)}].");
                parameter.copy_(source);
            }
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }
}
