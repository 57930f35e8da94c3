using Orleans.Rft.Engine.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// The decoder body, named <c>model</c> in HF checkpoints: token embedding, layers, final norm.
/// </summary>
public sealed class DecoderStack : nn.Module
{
    readonly Embedding embed_tokens;
    readonly ModuleList<DecoderLayer> layers;
    readonly RmsNorm norm;

    public DecoderStack(ModelConfig c, ScalarType dtype, Device device) : base(nameof(DecoderStack))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, dtype: dtype, device: device);
        embed_tokens.weight!.requires_grad = false;
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, dtype, device)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public Parameter EmbeddingWeight => embed_tokens.weight!;

    /// <param name="decodeBias">(B·kvHeads, 1, Tk) additive mask for one-token decoding (see <see cref="Attention.DecodeBias"/>), or null</param>
    public Tensor Forward(Tensor inputIds, Tensor cos, Tensor sin, Tensor? mask, Tensor? decodeBias, IKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.forward(inputIds);
        for (int i = 0; i < layers.Count; i++) h = layers[i].Forward(h, cos, sin, mask, decodeBias, cache, i);
        return norm.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A Llama-family causal language model (Llama, Qwen2, Qwen3). Module names equal the HF tensor
/// names (<c>model.layers.0.self_attn.q_proj.weight</c>, <c>lm_head.weight</c>), so a checkpoint maps
/// one to one onto <see cref="nn.Module.named_parameters"/>.
/// </summary>
public sealed class CausalLM : nn.Module
{
    readonly DecoderStack model;
    readonly Linear? lm_head;
    readonly RotaryEmbedding rope;

    public CausalLM(ModelConfig config, ScalarType dtype, Device device) : base(nameof(CausalLM))
    {
        Config = config;
        Device = device;
        DType = dtype;
        model = new DecoderStack(config, dtype, device);
        if (!config.TieWordEmbeddings)
        {
            lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: device, dtype: dtype);
            lm_head.weight!.requires_grad = false;
        }
        rope = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling, dtype, device);
        RegisterComponents();
    }

    public ModelConfig Config { get; }
    public Device Device { get; }
    public ScalarType DType { get; }

    /// <summary>Every LoRA-capable projection, with its module path (<c>model.layers.3.mlp.up_proj</c>).</summary>
    public IEnumerable<(string Path, LoraLinear Layer)> Projections() =>
        named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module));

    /// <summary>Turns every adapter on or off; off gives the base model (the KL reference).</summary>
    public void SetAdapterEnabled(bool enabled)
    {
        foreach (var (_, layer) in Projections()) layer.AdapterEnabled = enabled;
    }

    /// <summary>
    /// Logits (B, T, V) in float32 (or (B, V) for the last position only).
    /// </summary>
    /// <param name="inputIds">(B, T) int64</param>
    /// <param name="positions">(B, T) int64 RoPE positions</param>
    /// <param name="mask">(B, 1, T, Tk) boolean or null for plain causal attention</param>
    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor? mask = null, IKvCache? cache = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        // Everything below is queued on the device from what the caller passed: no value is read
        // back to the host, so a decode step costs no device→host round trip before the logits.
        var (cos, sin) = rope.Angles(positions);
        var decodeBias = inputIds.shape[1] == 1 && mask is not null ? Attention.DecodeBias(mask, Config.NumKeyValueHeads, DType) : null;
        var h = model.Forward(inputIds, cos, sin, mask, decodeBias, cache);
        cache?.Advance(inputIds.shape[1]);
        if (lastOnly) h = h.select(1, -1);
        var logits = nn.functional.linear(h, lm_head?.weight ?? model.EmbeddingWeight);
        return (logits.dtype == ScalarType.Float32 ? logits : logits.to(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    /// <summary>Plain causal forward over right-padded rows (positions 0..T−1).</summary>
    public Tensor Forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var positions = arange(inputIds.shape[1], ScalarType.Int64, inputIds.device).unsqueeze(0).expand(inputIds.shape[0], -1);
        return Forward(inputIds, positions).MoveToOuterDisposeScope();
    }

    /// <summary>The base weights (no adapter tensors), by HF name.</summary>
    public IEnumerable<(string Name, Parameter Tensor)> BaseParameters() =>
        named_parameters().Where(p => !p.name.Contains(".lora_")).Select(p => (p.name, p.parameter));

    protected override void Dispose(bool disposing)
    {
        if (disposing) rope.Dispose();
        base.Dispose(disposing);
    }
}
