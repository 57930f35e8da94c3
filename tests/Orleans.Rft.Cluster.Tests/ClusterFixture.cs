using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;
using Orleans.TestingHost;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Two in-process silos (CPU device each, local artifacts) and a toy task: a micro model whose
/// output embeddings are scaled up so its policy is steerable, and a <c>contains</c> reward for the
/// printable character the untrained model already emits most often (rare but reachable).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "orleans-rft-cluster-tests", Guid.NewGuid().ToString("N")[..8]);
    public string ModelDir => Path.Combine(Root, "model");
    public string DatasetPath => Path.Combine(Root, "train.jsonl");
    public string Target { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await InitializeModelAndData();
        Cluster = BuildCluster(2, LocalOptions());
        await Cluster.DeployAsync();
    }

    /// <summary>A CPU silo's options with this fixture's local artifact folder.</summary>
    public RftSiloOptions LocalOptions() => new() { Devices = "cpu", ArtifactsPath = Path.Combine(Root, "artifacts"), AllowLocalPaths = true };

    /// <summary>In-process silos configured by <see cref="RftSiloBuilderExtensions.AddRft"/> (the test host does the clustering).</summary>
    public static InProcessTestCluster BuildCluster(int silos, RftSiloOptions options, string? serviceId = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        if (serviceId is not null) builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) => silo.AddRft(options, configureClustering: false));
        return builder.Build();
    }

    /// <summary>The toy model and dataset only (for tests that build their own cluster).</summary>
    public async Task InitializeModelAndData()
    {
        Directory.CreateDirectory(Root);
        using (var model = TinyModelPresets.Create("micro", ModelDir, seed: 4))
        {
            using (no_grad()) model.Network.BaseParameters().Single(p => p.Name == "model.embed_tokens.weight").Tensor.mul_(8);
            model.SaveBase(ModelDir, ScalarType.Float32);
        }
        using (var model = LanguageModel.Load(ModelDir))
        {
            var prompt = model.Template.Encode(model.Tokenizer, [Engine.Chat.ChatMessage.User("go")]).Ids;
            var samples = Sampler.Generate(model, Enumerable.Repeat(prompt, 64).ToList(), new SamplingOptions(MaxTokens: 8, Seed: 1));
            var top = samples.SelectMany(s => s.TokenIds).Where(t => t is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9')
                .GroupBy(t => t).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            Target = ((char)top).ToString();
        }
        var lines = Enumerable.Range(0, 16).Select(i => new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"prompt {i}" }),
            ["ground_truth"] = Target,
        }.ToJsonString());
        await File.WriteAllLinesAsync(DatasetPath, lines);
    }

    public JobSpec Spec(string name, int trainers = 2, int maxSteps = 8, string? evaluator = null, double lr = 0.05, int staleness = 0) => new(
        name, ModelDir, DatasetPath, DatasetPath,
        evaluator ?? """{"type":"contains"}""",
        new TrainingSpec(LearningRate: lr, BatchPrompts: 4, MicroBatch: 16, Trainers: trainers, MaxSteps: maxSteps, MaxGradNorm: 1.0),
        new InferenceSpec(N: 8, MaxTokens: 8, EvalTemperature: 1.0),
        new LossSpec(MaxStaleness: staleness),
        new CheckpointSpec(EverySteps: 4),
        EvalEvery: 0, Seed: 7, BaseDirectory: Root);

    public Task<JobSnapshot> RunToEnd(string jobId, JobSpec spec, TimeSpan? timeout = null) => RunToEnd(Cluster.Client, jobId, spec, timeout);

    public static async Task<JobSnapshot> RunToEnd(IGrainFactory grains, string jobId, JobSpec spec, TimeSpan? timeout = null)
    {
        await grains.GetGrain<IJobGrain>(jobId).Submit(spec);
        return await WaitForEnd(grains, jobId, timeout);
    }

    /// <summary>The job's snapshot once it has ended (completed, failed or cancelled); a timeout says where it stood.</summary>
    public static async Task<JobSnapshot> WaitForEnd(IGrainFactory grains, string jobId, TimeSpan? timeout = null)
    {
        var job = grains.GetGrain<IJobGrain>(jobId);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (DateTime.UtcNow < deadline)
        {
            var s = await job.GetSnapshot();
            if (s.Status.IsFinal()) return s;
            await Task.Delay(200);
        }
        throw new TimeoutException($"job {jobId} did not finish: {await job.GetSnapshot()}");
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
