using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Jobs;

/// <summary>The cluster through an Orleans gateway: the grains themselves, each call with a deadline.</summary>
public sealed class GrainCluster(IHost host) : IRftCluster
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    static readonly TimeSpan SubmitTimeout = TimeSpan.FromSeconds(60);
    /// <summary>A deploy copies the adapter in the artifact store: seconds for LoRA-sized files, more on a slow blob store.</summary>
    static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(2);
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    readonly IGrainFactory grains = ClusterConnection.Grains(host);

    public async Task<JobSnapshot> Submit(JobSpec spec, JsonObject document, bool upload, Action<string>? progress, CancellationToken cancellation)
    {
        if (upload) spec = await new ArtifactUploader(new GrainArtifactSink(grains), progress).UploadInputs(spec, cancellation);
        var id = Orleans.Rft.Grains.Jobs.Spec.JobIds.New(spec.Name);
        return await grains.GetGrain<IJobGrain>(id).Submit(spec).WaitAsync(SubmitTimeout, cancellation);
    }

    public async Task<IReadOnlyList<JobSnapshot>> Jobs(CancellationToken cancellation)
    {
        var ids = await grains.GetGrain<IJobRegistryGrain>(0).List().WaitAsync(CallTimeout, cancellation);
        return await Task.WhenAll(ids.Select(id => grains.GetGrain<IJobGrain>(id).GetSnapshot().WaitAsync(CallTimeout, cancellation)));
    }

    public async Task<JobSnapshot> Get(string id, CancellationToken cancellation)
    {
        try { return await grains.GetGrain<IJobGrain>(id).GetSnapshot().WaitAsync(CallTimeout, cancellation); }
        catch (KeyNotFoundException) { throw new ArgumentException($"no job '{id}'; `rft jobs` lists them."); }
    }

    public Task<IReadOnlyList<StepMetrics>> History(string id, int fromStep, CancellationToken cancellation) =>
        grains.GetGrain<IJobGrain>(id).GetHistory(fromStep).WaitAsync(CallTimeout, cancellation);

    public async Task<JobSnapshot> Control(string id, string verb, CancellationToken cancellation)
    {
        var before = await Get(id, cancellation);
        if (before.Status.IsFinal())
            throw new ArgumentException($"job {before.JobId} already ended ({RftJson.Name(before.Status)}); there is nothing to {verb}.");
        var job = grains.GetGrain<IJobGrain>(id);
        return await (verb switch { "cancel" => job.Cancel(), "pause" => job.Pause(), "resume" => job.Resume(), _ => throw new ArgumentException($"unknown control '{verb}'.") })
            .WaitAsync(CallTimeout, cancellation);
    }

    public Task<RolloutPage> Rollouts(string id, int? step, int offset, int count, CancellationToken cancellation) =>
        grains.GetGrain<IJobGrain>(id).GetRollouts(step, offset, count).WaitAsync(TimeSpan.FromSeconds(60), cancellation);

    /// <summary>Polls the grain (snapshots come from its memory) until the job ends.</summary>
    public async IAsyncEnumerable<JobProgress> Follow(string id, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var job = grains.GetGrain<IJobGrain>(id);
        int seen = 0;
        while (true)
        {
            var snapshot = await Get(id, cancellation);
            var steps = await History(id, seen + 1, cancellation);
            if (steps.Count > 0) seen = steps[^1].Step;
            yield return new JobProgress(snapshot, steps);
            if (snapshot.Status.IsFinal()) yield break;
            await Task.Delay(PollInterval, cancellation);
        }
    }

    public async Task<ExportedAdapter> Export(string id, int? step, string outDirectory, CancellationToken cancellation)
    {
        await Get(id, cancellation);
        var info = await AdapterExporter.ExportAsync(grains.GetGrain<IJobGrain>(id), step, outDirectory);
        return new ExportedAdapter(info.Step, info.WeightsBytes);
    }

    public async Task<Deployment> Deploy(string name, string jobId, int? step, CancellationToken cancellation) =>
        Deployment.Of(await grains.GetGrain<IModelDeploymentsGrain>(0).Deploy(name, jobId, step).WaitAsync(DeployTimeout, cancellation));

    public Task<bool> Undeploy(string name, CancellationToken cancellation) =>
        grains.GetGrain<IModelDeploymentsGrain>(0).Undeploy(name).WaitAsync(CallTimeout, cancellation);

    public async Task<IReadOnlyList<Deployment>> Deployments(CancellationToken cancellation) =>
        (await grains.GetGrain<IModelDeploymentsGrain>(0).List().WaitAsync(CallTimeout, cancellation)).Select(Deployment.Of).ToList();

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }
}
