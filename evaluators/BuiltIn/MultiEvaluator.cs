namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>multi</c>: named sub-evaluators combined by <c>weights</c> (a weighted sum) or a <c>formula</c>
/// over their names. Each sub-score is reported as a metric; if any sub-result is invalid the
/// combination is invalid too (a missing term would bias the reward).
/// </summary>
public sealed class MultiEvaluator(IReadOnlyDictionary<string, IEvaluator> parts, Func<IReadOnlyDictionary<string, double>, double> combine, string description) : IEvaluator, IDisposable
{
    public string Type => "multi";
    /// <summary>Only when every part is: one synchronous part needs the thread its deadline relies on.</summary>
    public bool IsAsynchronous => parts.Values.All(p => p.IsAsynchronous);

    public static MultiEvaluator From(SpecReader r, string? baseDirectory, ClusterEndpoint? cluster = null)
    {
        var specs = r.Object("evaluators") ?? throw new SpecException(r.At("evaluators"), "is required: a mapping of name → evaluator.");
        if (specs.Count == 0) throw new SpecException(r.At("evaluators"), "needs at least one evaluator.");
        var parts = specs.ToDictionary(kv => kv.Key, kv => kv.Value is System.Text.Json.Nodes.JsonObject o
            ? EvaluatorFactory.Create(o, $"{r.At("evaluators")}.{kv.Key}", baseDirectory, cluster)
            : throw new SpecException($"{r.At("evaluators")}.{kv.Key}", "must be an evaluator mapping with a 'type'."));
        foreach (var (name, part) in parts)
            if (part is IGroupEvaluator { Groupwise: true })
                throw new SpecException($"{r.At("evaluators")}.{name}.groupwise", "a groupwise evaluator scores whole groups and cannot be combined inside multi yet; make it the job's evaluator, or drop groupwise.");
        var formula = r.String("formula");
        var weights = r.Object("weights");
        if (formula is not null && weights is not null) throw new SpecException(r.Path, "give either 'weights' or 'formula', not both.");
        if (formula is not null)
        {
            var combine = Formula.Parse(formula, parts.Keys, r.At("formula"));
            Formula.CheckFinite(combine, parts.Keys.ToList(), formula, r.At("formula"));
            return new(parts, combine, formula);
        }
        var w = new Dictionary<string, double>();
        foreach (var name in parts.Keys)
        {
            var reader = weights is null ? null : new SpecReader(weights, r.At("weights"));
            w[name] = reader?.Double(name, 0, min: 0) ?? 1.0 / parts.Count;
        }
        if (weights is not null) new SpecReader(weights, r.At("weights")).Also(parts.Keys);
        return new(parts, v => w.Sum(kv => kv.Value * v[kv.Key]), string.Join(" + ", w.Select(kv => $"{kv.Value:G3}·{kv.Key}")));
    }

    public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var scores = new Dictionary<string, double>();
        var metrics = new Dictionary<string, MetricResult>();
        foreach (var (name, evaluator) in parts)
        {
            var result = await evaluator.EvaluateAsync(input, cancellation);
            metrics[name] = new MetricResult(result.Score, result.IsScoreValid, result.Reason);
            // a part's own metrics (a python reward's, a json_schema's fields) stay visible under its name
            foreach (var (metric, value) in result.Metrics ?? new Dictionary<string, MetricResult>()) metrics[$"{name}.{metric}"] = value;
            if (!result.IsScoreValid) return new EvaluationResult(0, false, $"{name}: {result.Reason}", metrics);
            scores[name] = result.Score;
        }
        var score = combine(scores);
        return new EvaluationResult(score, true, description, metrics).Checked();
    }

    /// <summary>Stops the workers of python parts (the evaluator cache calls this when it drops the spec).</summary>
    public void Dispose()
    {
        foreach (var part in parts.Values) (part as IDisposable)?.Dispose();
    }
}

static class SpecReaderExtensions
{
    /// <summary>Refuses weights for names that are not sub-evaluators.</summary>
    public static void Also(this SpecReader reader, IEnumerable<string> known)
    {
        foreach (var name in known) reader.Has(name);
        reader.RejectUnknownKeys();
    }
}
