using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// A loaded Hugging Face model folder: the network, its tokenizer and chat template, and the LoRA
/// adapter attached to it (if any). Not thread-safe: one device thread owns it.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    LanguageModel(string directory, CausalLM network, TextTokenizer tokenizer, ChatTemplate template, ComputeDevice device)
    {
        Directory = directory;
        Network = network;
        Tokenizer = tokenizer;
        Template = template;
        Device = device;
        var stops = new HashSet<int>(network.Config.EosTokenIds);
        foreach (var token in template.EndOfTurnTokens)
            if (tokenizer.TokenToId(token) is int id) stops.Add(id);
        StopTokenIds = stops.Order().ToArray();
    }

    public string Directory { get; }
    public CausalLM Network { get; }
    public ModelConfig Config => Network.Config;
    public TextTokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    public ComputeDevice Device { get; }
    /// <summary>End-of-sequence ids from config.json plus the template's end-of-turn tokens.</summary>
    public int[] StopTokenIds { get; }
    public LoraConfig? Lora { get; private set; }

    /// <summary>Loads config, weights (any supported dtype, converted to the device's compute dtype) and tokenizer.</summary>
    public static LanguageModel Load(string directory, ComputeDevice? device = null)
    {
        device ??= ComputeDevice.Cpu;
        var config = ModelConfig.Load(directory);
        var tokenizer = TextTokenizer.Load(directory);
        var template = ChatTemplate.Detect(directory, tokenizer);
        var network = new CausalLM(config, device.ComputeDType, device.Device);
        var tensors = ShardedCheckpoint.Load(directory);
        try
        {
            using var _ = no_grad();
            foreach (var (name, parameter) in network.BaseParameters())
            {
                if (!tensors.TryGetValue(name, out var source))
                    throw new InvalidDataException($"{directory}: tensor '{name}' is missing from the weights ({config.Architecture} needs it).");
                if (!source.shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"{directory}: tensor '{name}' has shape [{string.Join(",", source.shape)}], expected [{string.Join(",", parameter.shape)}] from config.json.");
                parameter.copy_(source);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        network.eval();
        return new LanguageModel(directory, network, tokenizer, template, device);
    }

    /// <summary>Wraps a freshly built network (tiny presets, tests) that lives in <paramref name="directory"/>.</summary>
    public static LanguageModel FromNetwork(string directory, CausalLM network, TextTokenizer tokenizer, ChatTemplate template, ComputeDevice device) =>
        new(directory, network, tokenizer, template, device);

    /// <summary>Attaches a fresh adapter (B = 0) to the target projections; only its parameters train.</summary>
    public void AttachLora(LoraConfig lora, long seed = 0)
    {
        lora.Validate();
        if (Lora is not null) throw new InvalidOperationException("an adapter is already attached.");
        using var generator = new Generator((ulong)seed);
        foreach (var (path, layer) in Network.Projections())
            if (lora.Targets.Contains(path[(path.LastIndexOf('.') + 1)..]))
                layer.AttachAdapter(lora.Rank, lora.Alpha, lora.Dropout, generator);
        Lora = lora;
    }

    /// <summary>
    /// The adapter's parameters in their canonical order (module order, A before B): the order of
    /// the flat vector that trainer ranks shard.
    /// </summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> LoraParameters() =>
        Network.Projections().Where(p => p.Layer.HasAdapter)
            .SelectMany(p => new[] { ($"{p.Path}.lora_A", p.Layer.LoraA!), ($"{p.Path}.lora_B", p.Layer.LoraB!) })
            .ToList();

    /// <summary>Writes config.json and the base weights in the HF layout (tokenizer files are copied by the caller).</summary>
    public void SaveBase(string directory, ScalarType dtype, long maxShardBytes = 4L << 30)
    {
        System.IO.Directory.CreateDirectory(directory);
        var config = Config with { TorchDtype = dtype == ScalarType.BFloat16 ? "bfloat16" : dtype == ScalarType.Float16 ? "float16" : "float32" };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
        var tensors = Network.BaseParameters().ToDictionary(p => p.Name, p => p.Tensor.detach().to(dtype, CPU));
        try { ShardedCheckpoint.Save(directory, tensors, maxShardBytes); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    public void Dispose() => Network.Dispose();
}
