using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

public sealed partial class JobGrain
{
    JobSnapshot Snapshot() => new(JobId, S.Spec?.Name ?? JobId, Control.Shown(S.Status, validated: S.TotalSteps > 0), S.Step, S.TotalSteps, S.Epoch,
        S.PolicyVersion, S.LastError, S.BaselineEval, S.LatestEval, S.BestEval, S.BestStep, S.SubmittedAt, S.UpdatedAt, S.History.LastOrDefault(),
        S.Spec?.Training.Trainers ?? 0, S.Events.ToList(), S.Generation);

    public Task<JobSnapshot> GetSnapshot()
    {
        RequireJob();
        return Task.FromResult(Snapshot());
    }

    void RequireJob()
    {
        if (S.Spec is null) throw new KeyNotFoundException($"no job '{JobId}'.");
    }

    /// <summary>
    /// The state keeps the latest <see cref="JobState.MaxHistory"/> steps; older ones come from the
    /// metrics segments (100 steps a file). Lines past the current step (a run that rolled back, or
    /// a step whose state write never happened) are not history.
    /// </summary>
    public async Task<IReadOnlyList<StepMetrics>> GetHistory(int fromStep)
    {
        int last = S.Step, first = Math.Max(Math.Max(fromStep, 1), last - MaxHistoryAnswer + 1);
        if (first > last) return [];
        if (S.History.Count > 0 && S.History[0].Step <= first) return S.History.Where(h => h.Step >= first && h.Step <= last).ToList();
        var steps = new SortedDictionary<int, StepMetrics>();
        for (int segment = first; segment <= last; segment = (segment - 1) / JobPaths.MetricsStepsPerSegment * JobPaths.MetricsStepsPerSegment + JobPaths.MetricsStepsPerSegment + 1)
        {
            var bytes = await artifacts.ReadAsync(JobPaths.Metrics(JobId, segment));
            if (bytes is null) continue;
            foreach (var line in System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(line) is { } m && m.Step >= first && m.Step <= last) steps[m.Step] = m;
        }
        foreach (var h in S.History.Where(h => h.Step >= first && h.Step <= last)) steps[h.Step] = h;
        return steps.Values.ToList();
    }

    const int MaxHistoryAnswer = 1000;

    public async Task<JobSnapshot> Cancel()
    {
        RequireJob();
        if (!S.Status.IsFinal()) await Control.RequestCancel();
        return Snapshot();
    }

    public async Task<JobSnapshot> Pause()
    {
        RequireJob();
        if (!S.Status.IsFinal()) await Control.RequestPause();
        return Snapshot();
    }

    public async Task<JobSnapshot> Resume()
    {
        RequireJob();
        if (!S.Status.IsFinal() && Control.PauseRequested)
        {
            await Control.RequestResume();
            StartTimer();
        }
        return Snapshot();
    }

    public async Task<RolloutPage> GetRollouts(int? step, int offset, int count)
    {
        var s = step ?? S.Step - 1;
        var bytes = s < 0 ? null : await artifacts.ReadAsync(JobPaths.Rollouts(JobId, s));
        return RolloutPage.Take(s, bytes is null ? [] : JobStepRunner.ReadRolloutLog(bytes), offset, count);
    }

    public async Task<AdapterInfo> GetAdapter(int? step)
    {
        string path;
        int at;
        if (step is null || step == S.Step)
        {
            path = S.AdapterPath ?? throw new InvalidOperationException($"job '{JobId}' has not trained a step yet.");
            at = S.Step;
        }
        else
        {
            var checkpoint = S.Checkpoints.FirstOrDefault(c => c.Step == step)
                ?? throw new ArgumentException($"step {step} has no saved adapter; saved: {string.Join(", ", S.Checkpoints.Select(c => c.Step).Append(S.Step).Distinct().Order())}.");
            path = $"{checkpoint.Prefix}/adapter";
            at = checkpoint.Step;
        }
        var config = await artifacts.ReadAsync($"{path}/adapter_config.json") ?? throw new FileNotFoundException($"adapter {path} is missing from the artifact store.");
        var weights = await artifacts.ReadAsync($"{path}/adapter_model.safetensors") ?? throw new FileNotFoundException($"adapter weights {path} are missing.");
        return new AdapterInfo(at, S.PolicyVersion, System.Text.Encoding.UTF8.GetString(config), weights.LongLength, path, S.Spec?.BaseModel);
    }

    /// <summary>
    /// <paramref name="count"/> bytes (at most one message) of an adapter's weights from <paramref name="offset"/>:
    /// only this job's artifacts (<c>jobs/{id}/…</c>, not another job whose id merely starts the same),
    /// read from the store's local copy by range, not the whole file per chunk.
    /// </summary>
    public async Task<byte[]> GetAdapterChunk(string artifactPath, long offset, int count)
    {
        var root = JobPaths.Root(JobId) + "/";
        if (!ArtifactPaths.Checked(artifactPath).StartsWith(root, StringComparison.Ordinal))
            throw new ArgumentException($"'{artifactPath}' is not an artifact of job '{JobId}' (its paths start with {root}); export with the path GetAdapter returns.");
        if (count <= 0) throw new ArgumentException($"count must be positive, got {count}.");
        var folder = await artifacts.MaterializeAsync(artifactPath);
        var file = Path.Combine(folder, "adapter_model.safetensors");
        if (!File.Exists(file)) throw new FileNotFoundException($"adapter weights {artifactPath} are missing.");
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        if (offset < 0 || offset > stream.Length)
            throw new ArgumentException($"offset {offset} is outside the adapter weights of {artifactPath} ({stream.Length} bytes).");
        var chunk = new byte[(int)Math.Min(Math.Min(count, MessageLimits.MaxChunkBytes), stream.Length - offset)];
        stream.Position = offset;
        await stream.ReadExactlyAsync(chunk);
        return chunk;
    }
}
