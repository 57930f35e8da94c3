using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Checkpoints written before manifests and run generations (the layout of commit 327e63a), which a
/// job still names after the silos are upgraded: <c>jobs/{id}/checkpoints/step-NNNNNN</c> holding
/// <c>adapter/</c>, <c>optimizer-rank{r}.json</c> (System.Text.Json of <see cref="AdamWState"/>) and
/// <c>job.json</c>, which that code wrote last, after the adapter and every shard: its presence was
/// that layout's "whole" mark. Such a checkpoint is verified by the presence of its files and read as
/// it is (never converted, never retired for predating manifests); keep_last prunes it like any other.
/// </summary>
public static partial class LegacyCheckpoint
{
    [GeneratedRegex(@"/checkpoints/step-\d{6}$")]
    private static partial Regex LegacyName();

    /// <summary>True for the old naming; the current code always writes <c>g{generation}-step-NNNNNN</c>.</summary>
    public static bool Is(string prefix) => LegacyName().IsMatch(prefix);

    public static string OptimizerPath(string checkpoint, int rank) => $"{checkpoint}/optimizer-rank{rank}.json";

    /// <summary>Null when the old-layout checkpoint is whole for <paramref name="ranks"/> trainers; otherwise what is wrong.</summary>
    public static async Task<string?> VerifyAsync(IArtifactStore artifacts, string prefix, int step, int ranks)
    {
        var json = await artifacts.ReadAsync($"{prefix}/job.json");
        if (json is null) return $"{prefix} has no job.json (its write was cut short, or it was deleted)";
        int? written;
        try { written = JsonNode.Parse(json)?["Step"]?.GetValue<int>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return $"{prefix}/job.json is not valid ({e.Message})"; }
        if (written != step) return $"{prefix}/job.json is for step {written?.ToString() ?? "(none)"}, the job state says {step}";
        var files = (await artifacts.ListAsync(prefix)).ToHashSet();
        foreach (var name in new[] { "adapter/adapter_model.safetensors", "adapter/adapter_config.json" }.Concat(Enumerable.Range(0, ranks).Select(r => $"optimizer-rank{r}.json")))
            if (!files.Contains($"{prefix}/{name}")) return $"{prefix}/{name} is missing";
        return null;
    }

    /// <summary>An old shard: the JSON of <see cref="AdamWState"/> (Start, Length, Step, M, V) as the previous version serialised it.</summary>
    public static AdamWState ReadOptimizer(byte[] json, string source)
    {
        AdamWState? state;
        try { state = JsonSerializer.Deserialize<AdamWState>(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not an optimizer shard of the previous checkpoint layout ({e.Message}); resume from an earlier checkpoint or restart the job."); }
        if (state?.M is null || state.V is null || state.M.LongLength != state.Length || state.V.LongLength != state.Length)
            throw new InvalidDataException($"{source}: shard length {state?.Length} but m has {state?.M?.Length} and v {state?.V?.Length} elements.");
        return state;
    }
}
