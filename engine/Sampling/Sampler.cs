using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// Batched generation with a pre-allocated KV cache. Prompts of different lengths are left-padded
/// so every row writes the same cache slot each step; padding is masked out of attention and RoPE
/// positions start at each row's first real token. Finished rows leave the batch (their cache rows
/// are dropped), so a long straggler does not pay for the whole batch. Runs on the caller's thread.
/// </summary>
public static class Sampler
{
    public static IReadOnlyList<GeneratedSequence> Generate(LanguageModel model, IReadOnlyList<int[]> prompts, SamplingOptions options)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token.");
        if (options.RowSeeds is { } given && given.Count != prompts.Count)
            throw new ArgumentException($"RowSeeds has {given.Count} seeds for {prompts.Count} prompts; give one per prompt.");
        var net = model.Network;
        var device = net.Device;
        var config = model.Config;
        var stopIds = new HashSet<int>(options.IgnoreEos ? [] : model.StopTokenIds);
        foreach (var id in options.StopTokenIds ?? []) stopIds.Add(id);
        var stopStrings = options.Stop?.Where(s => s.Length > 0).ToArray() ?? [];

        int batch = prompts.Count;
        int promptLength = prompts.Max(p => p.Length);
        var pads = prompts.Select(p => (long)(promptLength - p.Length)).ToArray();
        var outputs = Enumerable.Range(0, batch).Select(_ => new RowOutput()).ToArray();
        bool wasTraining = net.training;
        net.eval();
        using var noGrad = no_grad();
        var generators = RowGenerators(options, batch, device);
        using var cache = new KvCache(config.NumHiddenLayers, batch, config.NumKeyValueHeads, promptLength + options.MaxTokens, config.HeadDim, net.DType, device);
        try
        {
            Tensor logits;
            using (var scope = NewDisposeScope())
            {
                var ids = new long[batch * promptLength];
                for (int b = 0; b < batch; b++)
                    for (int j = 0; j < prompts[b].Length; j++) ids[b * promptLength + pads[b] + j] = prompts[b][j];
                var input = tensor(ids, new long[] { batch, promptLength }, device: device);
                var padT = tensor(pads, device: device).unsqueeze(1);                           // (B, 1)
                var cols = arange(promptLength, device: device).unsqueeze(0);                   // (1, T)
                var positions = (cols - padT).clamp_min(0);                                     // (B, T)
                var keyValid = cols.ge(padT).unsqueeze(1);                                      // (B, 1, Tk)
                var causal = ones(promptLength, promptLength, ScalarType.Bool, device).tril().unsqueeze(0); // (1, T, Tk)
                var diag = eye(promptLength, dtype: ScalarType.Bool, device: device).unsqueeze(0);
                var mask = (causal.logical_and(keyValid).logical_or(diag)).unsqueeze(1);        // (B, 1, T, Tk)
                logits = net.Forward(input, positions, mask, cache, lastOnly: true).MoveToOuterDisposeScope();
            }

            var active = Enumerable.Range(0, batch).ToList();                                   // original row of each batch row
            for (int step = 0; step < options.MaxTokens; step++)
            {
                long[] tokens; float[] sampled, policy;
                using (var scope = NewDisposeScope())
                {
                    var (t, s, p) = TokenSampler.Next(logits, options, generators is null ? null : active.Select(r => generators[r]).ToList());
                    tokens = t.cpu().data<long>().ToArray();
                    sampled = s.cpu().data<float>().ToArray();
                    policy = p.cpu().data<float>().ToArray();
                }
                logits.Dispose();
                var keep = new List<int>();
                for (int r = 0; r < active.Count; r++)
                {
                    var row = outputs[active[r]];
                    int token = (int)tokens[r];
                    row.Add(token, sampled[r], policy[r]);
                    if (stopIds.Contains(token)) row.Finish(FinishReason.Stop, stopToken: true);
                    else if (stopStrings.Length > 0 && row.HitStopString(model, stopStrings)) row.Finish(FinishReason.Stop, stopToken: false);
                    else if (step == options.MaxTokens - 1) row.Finish(FinishReason.Length, stopToken: false);
                    else keep.Add(r);
                }
                if (keep.Count == 0) break;

                using (var scope = NewDisposeScope())
                {
                    var next = tensor(keep.Select(r => tokens[r]).ToArray(), device: device).unsqueeze(1);   // (B', 1)
                    if (keep.Count < active.Count)
                    {
                        cache.SelectRows(tensor(keep.Select(r => (long)r).ToArray(), device: device));
                        pads = keep.Select(r => pads[r]).ToArray();
                        active = keep.Select(r => active[r]).ToList();
                    }
                    var length = cache.Length;
                    var padT = tensor(pads, device: device).unsqueeze(1);                                    // (B', 1)
                    var positions = full(new long[] { keep.Count, 1 }, length, ScalarType.Int64, device) - padT;
                    var mask = arange(length + 1, device: device).unsqueeze(0).ge(padT).view(keep.Count, 1, 1, length + 1);
                    logits = net.Forward(next, positions, mask, cache, lastOnly: true).MoveToOuterDisposeScope();
                }
            }
        }
        finally
        {
            if (wasTraining) net.train();
            foreach (var g in generators ?? []) g.Dispose();
        }
        return outputs.Select(o => o.ToSequence(model.Tokenizer, stopStrings)).ToArray();
    }

    /// <summary>One generator per row (null when unseeded), seeded by <see cref="SamplingOptions.RowSeed"/> or the given row seeds.</summary>
    static Generator[]? RowGenerators(SamplingOptions options, int batch, Device device)
    {
        if (options.RowSeeds is { } seeds) return seeds.Select(s => new Generator((ulong)s, device)).ToArray();
        if (options.Seed is long seed) return Enumerable.Range(0, batch).Select(r => new Generator((ulong)SamplingOptions.RowSeed(seed, r), device)).ToArray();
        return null;
    }

    sealed class RowOutput
    {
        readonly List<int> ids = new();
        readonly List<float> sampled = new(), policy = new();
        string reason = FinishReason.Length;
        bool endsWithStopToken;

        public void Add(int id, float s, float p) { ids.Add(id); sampled.Add(s); policy.Add(p); }

        public void Finish(string why, bool stopToken) { reason = why; endsWithStopToken = stopToken; }

        public bool HitStopString(LanguageModel model, string[] stops)
        {
            // Only the tail can contain a new match: decode enough trailing tokens to cover the longest stop.
            var tail = model.Tokenizer.Decode(ids.Skip(Math.Max(0, ids.Count - stops.Max(s => s.Length) - 4)), skipSpecialTokens: true);
            return stops.Any(tail.Contains);
        }

        public GeneratedSequence ToSequence(Tokenization.TextTokenizer tokenizer, string[] stops)
        {
            var textIds = endsWithStopToken ? ids.Take(ids.Count - 1) : ids;
            var text = tokenizer.Decode(textIds, skipSpecialTokens: true);
            foreach (var stop in stops)
            {
                var at = text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0) text = text[..at];
            }
            return new GeneratedSequence(ids.ToArray(), sampled.ToArray(), policy.ToArray(), reason, text);
        }
    }
}
