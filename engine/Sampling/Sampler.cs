using Orleans.Rft.Engine.Models;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// Batched generation of a fixed set of prompts: a thin wrapper over <see cref="ContinuousBatcher"/>,
/// so <c>rft model generate</c>, eval, rollouts and served requests run one code path. Row r draws
/// with <c>RowSeeds[r]</c> when given, else <see cref="SamplingOptions.RowSeed"/>(<c>Seed</c>, r),
/// else a random seed. Runs on the caller's thread.
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
        using var batcher = new ContinuousBatcher(model, new BatcherOptions(MaxRows: Math.Max(1, prompts.Count)));
        var handles = prompts.Select((p, r) => batcher.Submit(new SequenceSubmission(p, options, RowSeed(options, r)))).ToList();
        while (batcher.HasWork) batcher.Step();
        return handles.Select(h => h.Completion.GetAwaiter().GetResult()).ToArray(); // all ended: rethrows a row's failure
    }

    /// <summary>The seed of row <paramref name="row"/>: given, derived from the request seed, or null (random).</summary>
    public static long? RowSeed(SamplingOptions options, int row) =>
        options.RowSeeds is { } seeds ? seeds[row] : options.Seed is long seed ? SamplingOptions.RowSeed(seed, row) : null;
}
