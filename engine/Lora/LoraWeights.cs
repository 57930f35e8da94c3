using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Lora;

/// <summary>
/// One adapter's weights, loaded apart from the model so that many adapters can serve over one frozen
/// base in one batch (S-LoRA, Sheng et al. 2023; Punica, Chen et al. 2023): per targeted projection
/// (by module path) A (r, in) and B (out, r) in float32 on the model's device, and the scale α/r.
/// Any rank, alpha and target set. Loaded on and used from the device's thread; disposable.
/// </summary>
public sealed class LoraWeights : IDisposable
{
    readonly Dictionary<string, (Tensor A, Tensor B)> modules;

    LoraWeights(LoraConfig config, Dictionary<string, (Tensor A, Tensor B)> modules)
    {
        Config = config;
        this.modules = modules;
        Scaling = config.Alpha / config.Rank;
        Bytes = modules.Values.Sum(w => w.A.numel() * w.A.ElementSize + w.B.numel() * w.B.ElementSize);
    }

    public LoraConfig Config { get; }
    /// <summary>α / r, as <see cref="LoraLinear"/> scales its attached adapter.</summary>
    public double Scaling { get; }
    /// <summary>Bytes of A and B on the device, for budgeting.</summary>
    public long Bytes { get; }

    /// <summary>A and B of one projection, or null when the adapter does not target it.</summary>
    public (Tensor A, Tensor B)? For(string module) => modules.TryGetValue(module, out var w) ? w : null;

    /// <summary>Reads a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) for <paramref name="network"/>'s shapes.</summary>
    public static LoraWeights Load(string directory, CausalLM network)
    {
        var config = PeftAdapter.ReadConfig(directory);
        config.Validate();
        var read = PeftAdapter.ReadWeights(directory, network, config);
        var dtype = network.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32; // as LoraLinear keeps an attached adapter
        var modules = new Dictionary<string, (Tensor A, Tensor B)>();
        foreach (var (module, (a, b)) in read)
        {
            modules[module] = (a.to(dtype, network.Device).DetachFromDisposeScope(), b.to(dtype, network.Device).DetachFromDisposeScope());
            a.Dispose(); b.Dispose();
        }
        return new LoraWeights(config, modules);
    }

    /// <summary>A copy of an attached adapter's current weights (tests, and serving a trainer's live policy).</summary>
    public static LoraWeights FromModel(LanguageModel model)
    {
        var lora = model.Lora ?? throw new InvalidOperationException("the model has no adapter attached.");
        var modules = new Dictionary<string, (Tensor A, Tensor B)>();
        foreach (var (module, layer) in model.Network.Projections())
            if (layer.HasAdapter)
                modules[module] = (layer.LoraA!.detach().clone().DetachFromDisposeScope(), layer.LoraB!.detach().clone().DetachFromDisposeScope());
        return new LoraWeights(lora, modules);
    }

    public void Dispose()
    {
        foreach (var (a, b) in modules.Values) { a.Dispose(); b.Dispose(); }
        modules.Clear();
    }
}
