using Microsoft.Extensions.Logging;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Deployments;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Orleans.Runtime;

namespace Orleans.Rft.Grains;

/// <summary>
/// The cluster's deployed adapters (key 0). A deployment owns a copy of the adapter's files
/// (<see cref="DeploymentPaths"/>): the job keeps pruning its own adapter folders as it trains, and a
/// served model must not vanish with them. Order of a (re)deploy: copy, write the state, then delete the
/// replaced copy, so the stored state never names a missing folder; a copy orphaned by a crash between
/// the steps is deleted when the grain next activates.
/// </summary>
public sealed class ModelDeploymentsGrain(
    [PersistentState("model-deployments", "rft")] IPersistentState<ModelDeploymentsState> deployments,
    IArtifactStore artifacts,
    ILogger<ModelDeploymentsGrain> logger) : Grain, IModelDeploymentsGrain
{
    static readonly TimeSpan JobCallTimeout = TimeSpan.FromSeconds(30);
    static readonly string[] AdapterFiles = ["adapter_config.json", "adapter_model.safetensors"];

    Dictionary<string, ModelDeployment> ByName => deployments.State.ByName;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var named = ByName.Values.Select(d => d.AdapterPath).ToHashSet(StringComparer.Ordinal);
        var stored = (await artifacts.ListAsync(DeploymentPaths.Root, cancellationToken)).Select(DeploymentPaths.CopyOf).Distinct();
        foreach (var orphan in stored.Where(f => !named.Contains(f)).ToList())
        {
            logger.LogInformation("Deleting deployment copy {Path}, which no deployment names (left by an interrupted deploy)", orphan);
            await DeleteQuietly(orphan);
        }
    }

    public async Task<ModelDeployment> Deploy(string name, string jobId, int? step)
    {
        ModelDeploymentNames.Checked(name);
        if (string.IsNullOrWhiteSpace(jobId)) throw new ArgumentException("a deployment needs the job id whose adapter it serves.");
        if (!ByName.ContainsKey(name) && ByName.Count >= ModelDeploymentsState.MaxDeployments)
            throw new InvalidOperationException($"{ModelDeploymentsState.MaxDeployments} models are deployed already; `rft undeploy NAME` one first.");
        var job = GrainFactory.GetGrain<IJobGrain>(jobId);
        JobSnapshot snapshot;
        try { snapshot = await job.GetSnapshot().WaitAsync(JobCallTimeout); }
        catch (KeyNotFoundException) { throw new ArgumentException($"no job '{jobId}'; `rft jobs` lists them."); }

        var now = DateTimeOffset.UtcNow;
        var (adapter, copy) = await CopyAdapter(job, name, step, now);
        var deployment = new ModelDeployment(name, jobId, adapter.Step, adapter.Version,
            adapter.BaseModel ?? throw new InvalidOperationException($"job '{jobId}' does not say which base model it trained on."), copy, now,
            BaseModelName(adapter.ConfigJson));
        ByName.TryGetValue(name, out var replaced);
        ByName[name] = deployment;
        try { await StateWrites.WriteOwnedAsync(deployments); }
        catch
        {
            if (replaced is null) ByName.Remove(name); else ByName[name] = replaced;
            await DeleteQuietly(copy);
            throw;
        }
        if (replaced is not null) await DeleteQuietly(replaced.AdapterPath);
        logger.LogInformation("Deployed {Name}: job {JobId} ({Status}) step {Step}, policy v{Version}, copied to {Path}",
            name, jobId, snapshot.Status, adapter.Step, adapter.Version, copy);
        return deployment;
    }

    /// <summary>
    /// Copies the job's adapter to a new deployment folder. The job may retire the adapter between
    /// <see cref="IJobGrain.GetAdapter"/> and the copy (it trained a step meanwhile): then the copy is
    /// incomplete, and the adapter is asked for again, once.
    /// </summary>
    async Task<(AdapterInfo Adapter, string Copy)> CopyAdapter(IJobGrain job, string name, int? step, DateTimeOffset now)
    {
        for (int attempt = 1; ; attempt++)
        {
            var adapter = await job.GetAdapter(step).WaitAsync(JobCallTimeout);
            var copy = DeploymentPaths.NewCopy(name, now);
            try
            {
                using (var source = await artifacts.LeaseFolderAsync(adapter.ArtifactPath))
                    await artifacts.UploadDirectoryAsync(source.Path, copy);
                var missing = new List<string>();
                foreach (var file in AdapterFiles)
                    if (!await artifacts.ExistsAsync($"{copy}/{file}")) missing.Add(file);
                if (missing.Count == 0) return (adapter, copy);
                await DeleteQuietly(copy);
                if (attempt == 2)
                    throw new FileNotFoundException($"the adapter of job '{job.GetPrimaryKeyString()}' at {adapter.ArtifactPath} lacks {string.Join(", ", missing)}.");
            }
            catch (DirectoryNotFoundException) when (attempt == 1) { await DeleteQuietly(copy); }
        }
    }

    /// <summary>PEFT's <c>base_model_name_or_path</c>: the name the job's spec gave its base model.</summary>
    static string? BaseModelName(string adapterConfigJson)
    {
        try { return System.Text.Json.Nodes.JsonNode.Parse(adapterConfigJson)?["base_model_name_or_path"]?.GetValue<string>(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return null; }
    }

    public async Task<bool> Undeploy(string name)
    {
        if (!ByName.Remove(name, out var removed)) return false;
        await StateWrites.WriteOwnedAsync(deployments);
        await DeleteQuietly(removed.AdapterPath);
        logger.LogInformation("Undeployed {Name} (job {JobId} step {Step})", name, removed.JobId, removed.Step);
        return true;
    }

    public Task<IReadOnlyList<ModelDeployment>> List() =>
        Task.FromResult<IReadOnlyList<ModelDeployment>>(ByName.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToList());

    /// <summary>A copy that cannot be deleted now stays an orphan, deleted at the next activation; it never fails the call.</summary>
    async Task DeleteQuietly(string prefix)
    {
        try { await artifacts.DeleteAsync(prefix); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Azure.RequestFailedException)
        {
            logger.LogWarning(e, "Could not delete deployment copy {Path}; it is retried when the deployments grain next activates", prefix);
        }
    }
}
