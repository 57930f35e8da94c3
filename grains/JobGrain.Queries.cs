using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Grains;

public sealed partial class JobGrain
{
    JobSnapshot Snapshot() => new(JobId, S.Spec?.Name ?? JobId, S.Status, S.Step, S.TotalSteps, S.Epoch, S.PolicyVersion, S.LastError,
        S.BaselineEval, S.LatestEval, S.BestEval, S.BestStep, S.SubmittedAt, S.UpdatedAt, S.History.LastOrDefault(), S.Spec?.Training.Trainers ?? 0);

    public Task<JobSnapshot> GetSnapshot()
    {
        if (S.Spec is null) throw new KeyNotFoundException($"no job '{JobId}'.");
        return Task.FromResult(Snapshot());
    }

    public Task<IReadOnlyList<StepMetrics>> GetHistory(int fromStep) =>
        Task.FromResult<IReadOnlyList<StepMetrics>>(S.History.Where(h => h.Step >= fromStep).TakeLast(1000).ToList());

    public async Task<JobSnapshot> Cancel()
    {
        if (S.Status.IsFinal()) return Snapshot();
        cancelRequested = true;
        if (S.Status == JobStatus.Paused) await Finish(JobStatus.Cancelled, null);
        return Snapshot();
    }

    public async Task<JobSnapshot> Pause()
    {
        if (S.Status is JobStatus.Running or JobStatus.Pending or JobStatus.Validating)
        {
            // takes effect between steps: the timer tick that is running finishes its step first
            S.Status = JobStatus.Paused;
            await state.WriteStateAsync();
        }
        return Snapshot();
    }

    public async Task<JobSnapshot> Resume()
    {
        if (S.Status == JobStatus.Paused)
        {
            S.Status = S.TotalSteps > 0 ? JobStatus.Running : JobStatus.Pending;
            await state.WriteStateAsync();
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
                ?? throw new ArgumentException($"step {step} has no saved adapter; saved: {string.Join(", ", S.Checkpoints.Select(c => c.Step).Append(S.Step))}.");
            path = $"{checkpoint.Prefix}/adapter";
            at = checkpoint.Step;
        }
        var config = await artifacts.ReadAsync($"{path}/adapter_config.json") ?? throw new FileNotFoundException($"adapter {path} is missing from the artifact store.");
        var weights = await artifacts.ReadAsync($"{path}/adapter_model.safetensors") ?? throw new FileNotFoundException($"adapter weights {path} are missing.");
        return new AdapterInfo(at, S.PolicyVersion, System.Text.Encoding.UTF8.GetString(config), weights.LongLength, path);
    }

    public async Task<byte[]> GetAdapterChunk(string artifactPath, long offset, int count)
    {
        if (!artifactPath.StartsWith(JobPaths.Root(JobId))) throw new ArgumentException("not an artifact of this job.");
        var weights = await artifacts.ReadAsync($"{artifactPath}/adapter_model.safetensors") ?? throw new FileNotFoundException(artifactPath);
        count = (int)Math.Min(Math.Min(count, MessageLimits.MaxChunkBytes), weights.LongLength - offset);
        return weights.AsSpan((int)offset, count).ToArray();
    }
}
