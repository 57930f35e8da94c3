using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// One silo with its HTTP endpoint (an API key required, local paths off: a cluster's setting) and the
/// cluster fixture's micro model and dataset uploaded over HTTP, plus one tiny job (<see cref="DoneJobId"/>,
/// three steps) submitted over HTTP and run to its end, so the read routes have real history and
/// rollouts to answer with.
/// </summary>
public sealed class JobsHttpFixture : IAsyncLifetime
{
    public const string Key = "sk-jobs-3c9e1a";
    public const int DoneSteps = 3;

    public ClusterFixture Toy { get; } = new();
    public HttpHost Host { get; private set; } = null!;
    public string DoneJobId { get; private set; } = "";
    public string ModelReference { get; private set; } = "";
    public string DatasetReference { get; private set; } = "";
    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();
    /// <summary>Snapshot reads of each job arriving at the silo (who still polls a job).</summary>
    public SnapshotCallCounter SnapshotCalls { get; } = new();

    public async Task InitializeAsync()
    {
        await Toy.InitializeModelAndData();
        Host = await HttpHost.StartAsync(Options(), services => services.AddSingleton<IIncomingGrainCallFilter>(SnapshotCalls));
        using var http = Http();
        ModelReference = await JobsHttpUploads.UploadFolder(http, Toy.ModelDir);
        DatasetReference = await JobsHttpUploads.UploadFile(http, Toy.DatasetPath);
        var (status, body) = await http.PostAsync("v1/rft/jobs", TinySpec("http-done", DoneSteps));
        Assert.True(status == 201, body.ToJsonString());
        DoneJobId = body["job_id"]!.GetValue<string>();
        var done = await WaitForEnd(DoneJobId);
        Assert.True(done.Status == JobStatus.Completed, $"the fixture's job ended {done.Status}: {done.LastError}");
    }

    public RftSiloOptions Options() => new()
    {
        Devices = "cpu", ArtifactsPath = Path.Combine(Toy.Root, "artifacts"), AllowLocalPaths = false, ApiKeys = [Key],
    };

    /// <summary>The cluster tests' toy job as the JSON body of POST /v1/rft/jobs: one trainer rank, a checkpoint every step.</summary>
    public JsonObject TinySpec(string name, int steps) => new()
    {
        ["name"] = name,
        ["base_model"] = ModelReference,
        ["base_model_name"] = "toy",
        ["dataset"] = DatasetReference,
        ["evaluator"] = new JsonObject { ["type"] = "contains" },
        ["training"] = new JsonObject { ["learning_rate"] = 0.05, ["batch_prompts"] = 4, ["micro_batch"] = 16, ["trainers"] = 1, ["max_steps"] = steps, ["lora_rank"] = 4 },
        ["inference"] = new JsonObject { ["n"] = 8, ["max_tokens"] = 8 },
        ["checkpoint"] = new JsonObject { ["every_steps"] = 1 },
        ["eval_every"] = 0,
        ["seed"] = 7,
    };

    public Task<JobSnapshot> WaitForEnd(string jobId, TimeSpan? timeout = null) => ClusterFixture.WaitForEnd(Grains, jobId, timeout);

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
