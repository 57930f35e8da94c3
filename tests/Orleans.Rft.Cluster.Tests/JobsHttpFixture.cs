using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// One silo with its HTTP endpoint (an API key required) and the cluster fixture's micro model and
/// dataset, plus one tiny job (<see cref="DoneJobId"/>, three steps) already run to its end, so the
/// read routes have real history and rollouts to answer with.
/// </summary>
public sealed class JobsHttpFixture : IAsyncLifetime
{
    public const string Key = "sk-jobs-3c9e1a";
    public const string DoneJobId = "http-done-job";
    public const int DoneSteps = 3;

    public ClusterFixture Toy { get; } = new();
    public HttpHost Host { get; private set; } = null!;
    public JobSnapshot Done { get; private set; } = null!;
    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        await Toy.InitializeModelAndData();
        Host = await HttpHost.StartAsync(Options());
        Done = await ClusterFixture.RunToEnd(Grains, DoneJobId, TinySpec("http-done", DoneSteps));
        Assert.True(Done.Status == JobStatus.Completed, $"the fixture's job ended {Done.Status}: {Done.LastError}");
    }

    public RftSiloOptions Options() => new()
    {
        Devices = "cpu", ArtifactsPath = Path.Combine(Toy.Root, "artifacts"), AllowLocalPaths = true, ApiKeys = [Key],
    };

    /// <summary>The cluster tests' toy job, one trainer rank, a checkpoint every step (so every step's adapter can be exported).</summary>
    public JobSpec TinySpec(string name, int steps) => Toy.Spec(name, trainers: 1, maxSteps: steps) with { Checkpoint = new CheckpointSpec(EverySteps: 1) };

    public HttpClient Http(string? key = Key) => HttpTestClient.Raw(Host, key);

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        await Toy.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class JobsHttpCollection : ICollectionFixture<JobsHttpFixture>
{
    public const string Name = "jobs-http";
}
