using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Lora;

/// <summary>
/// A frozen linear projection with an optional LoRA adapter (Hu et al. 2021):
/// <c>y = x Wᵀ + b + (α/r) · dropout(x) Aᵀ Bᵀ</c>, A: (r, in), B: (out, r). B starts at zero, so a fresh
/// adapter leaves the output exactly equal to the base. Field names are the HF/PEFT tensor names
/// (<c>weight</c>, <c>bias</c>, <c>lora_A</c>, <c>lora_B</c>). The adapter is kept in float32 even when
/// the base weights are bf16, as PEFT does, so small updates are not rounded away.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter? bias;
    Parameter? lora_A;
    Parameter? lora_B;
    double scaling;
    double dropout;
    LoraRouting? routing;   // per-row served adapters of the current forward (inference only)
    string modulePath = "";

    public LoraLinear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device) : base(nameof(LoraLinear))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype, device), requires_grad: false);
        if (hasBias) bias = new Parameter(zeros(outFeatures, dtype, device), requires_grad: false);
        RegisterComponents();
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public Parameter? LoraA => lora_A;
    public Parameter? LoraB => lora_B;
    public bool HasAdapter => lora_A is not null;

    /// <summary>When false the layer computes the base projection only (the KL reference).</summary>
    public bool AdapterEnabled { get; set; } = true;

    /// <summary>
    /// Adds a rank-r adapter: A ~ Kaiming-uniform(a=√5) as PEFT initialises it, B = 0.
    /// </summary>
    public void AttachAdapter(int rank, double alpha, double dropoutRate, Generator? generator = null)
    {
        if (HasAdapter) throw new InvalidOperationException("this layer already has an adapter.");
        // kaiming_uniform_(a=√5) on (r, in): bound = sqrt(6 / ((1 + a²) · fan_in)) = 1/sqrt(in).
        var bound = 1.0 / Math.Sqrt(InFeatures);
        var dtype = weight.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32; // float64 only for gradient checks
        var a = (rand(new long[] { rank, InFeatures }, generator: generator, dtype: dtype) * (2 * bound) - bound).to(weight.device);
        lora_A = new Parameter(a, requires_grad: true);
        lora_B = new Parameter(zeros(OutFeatures, rank, dtype, weight.device), requires_grad: true);
        register_parameter("lora_A", lora_A);
        register_parameter("lora_B", lora_B);
        scaling = alpha / rank;
        dropout = dropoutRate;
    }

    /// <summary>Serves per-row adapters (<see cref="LoraRouting"/>) in the next forwards; null stops. <paramref name="path"/> is this layer's module path.</summary>
    public void Route(LoraRouting? routing, string path)
    {
        this.routing = routing;
        modulePath = path;
    }

    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.linear(x, weight, bias);
        if (routing is not null) y = AddRoutedDeltas(x, y);
        if (lora_A is null || lora_B is null || !AdapterEnabled) return y;
        if (!is_grad_enabled() && !(training && dropout > 0) && AddDeltaInPlace(x, y, lora_A, lora_B, scaling)) return y;
        using var scope = NewDisposeScope();
        var input = x.dtype == lora_A.dtype ? x : x.to(lora_A.dtype);
        if (training && dropout > 0) input = nn.functional.dropout(input, dropout, training: true);
        var delta = nn.functional.linear(nn.functional.linear(input, lora_A), lora_B);
        // y + α/r · delta as one kernel (add with alpha) rather than a scale, then an add.
        return y.add(delta.dtype == y.dtype ? delta : delta.to(y.dtype), scaling).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Without autograd (decoding, scoring): y (…, out) += α/r · (x Aᵀ) Bᵀ as one GEMM that accumulates
    /// into the base projection's own fresh output (<c>addmm_</c>, β = 1), after the rank-r product
    /// x Aᵀ. Writing the delta apart and adding it cost a (rows, out) tensor and a kernel per
    /// projection, and measured 3–4× this path's cost at batch 64 (bench/: <c>--decode</c>).
    /// False (nothing done) when the adapter's dtype differs from the activations' (bf16 base).
    /// </summary>
    static bool AddDeltaInPlace(Tensor x, Tensor y, Tensor a, Tensor b, double scaling)
    {
        if (x.dtype != a.dtype || y.dtype != a.dtype || !y.is_contiguous()) return false;
        using var scope = NewDisposeScope();
        var rows = x.reshape(-1, x.shape[^1]);                                           // (N, in)
        y.view(-1, y.shape[^1]).addmm_(rows.mm(a.t()), b.t(), 1f, (float)scaling);       // (N, out) += s · (N, r)(r, out)
        return true;
    }

    /// <summary>y (B, …, out) += per adapter group: ((x[rows] Aᵀ) Bᵀ) · α/r on those rows, in the adapter's dtype.</summary>
    Tensor AddRoutedDeltas(Tensor x, Tensor y)
    {
        if (!routing!.Groups.Any(g => g.Adapter.For(modulePath) is not null)) return y;
        using var scope = NewDisposeScope();
        foreach (var group in routing.Groups)
        {
            if (group.Adapter.For(modulePath) is not var (a, b)) continue;
            if (group.AllRows && AddDeltaInPlace(x, y, a, b, group.Adapter.Scaling)) continue;
            var input = group.AllRows ? x : x.index_select(0, group.Rows);
            if (input.dtype != a.dtype) input = input.to(a.dtype);
            var delta = nn.functional.linear(nn.functional.linear(input, a), b);
            if (delta.dtype != y.dtype) delta = delta.to(y.dtype);
            // In place on y, the base projection's own fresh output (decoding runs under no_grad): the
            // scale α/r folds into the add, saving a full (B, out) temporary and a kernel per projection.
            if (group.AllRows) y.add_(delta, group.Adapter.Scaling);
            else y.index_add_(0, group.Rows, delta, group.Adapter.Scaling);
        }
        return y;
    }
}
