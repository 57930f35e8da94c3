using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>On a cluster, a job spec reaches no file on a silo's disk, and an evaluator item never outlives its timeout.</summary>
[Collection(ClusterCollection.Name)]
public sealed class InputSafetyClusterTests(ClusterFixture fixture)
{
    [Fact]
    public async Task On_a_cluster_that_does_not_allow_local_paths_a_job_naming_silo_files_fails_with_the_fix_and_reads_nothing()
    {
        var options = fixture.LocalOptions();
        options.AllowLocalPaths = false;
        var cluster = ClusterFixture.BuildCluster(1, options);
        await cluster.DeployAsync();
        try
        {
            var snapshot = await ClusterFixture.RunToEnd(cluster.Client, "local-paths", fixture.Spec("local-paths", trainers: 1, maxSteps: 1) with { Dataset = "/etc/passwd" });
            Assert.Equal(JobStatus.Failed, snapshot.Status);
            Assert.Contains("Rft:AllowLocalPaths", snapshot.LastError);
            Assert.DoesNotContain("root:", snapshot.LastError);

            var schemaFile = Path.Combine(fixture.Root, "schema.json");
            await File.WriteAllTextAsync(schemaFile, """{"type": "object"}""");
            var evaluator = cluster.Client.GetGrain<IEvaluatorGrain>(0);
            var outcome = Assert.Single(await evaluator.Evaluate("""{"type":"json_schema","schema":"schema.json"}""", fixture.Root, [new EvaluateItem("{}", null, "{}")], 5));
            Assert.False(outcome.IsScoreValid);
            Assert.True(outcome.Errored);
            Assert.Contains("Rft:AllowLocalPaths", outcome.Reason);
        }
        finally { await cluster.DisposeAsync(); }
    }

    [Fact]
    public async Task On_a_cluster_that_does_not_allow_local_paths_a_tools_job_with_a_stdio_server_fails_at_once_naming_the_server_and_the_fix()
    {
        var options = fixture.LocalOptions();
        options.AllowLocalPaths = false;
        var cluster = ClusterFixture.BuildCluster(1, options);
        await cluster.DeployAsync();
        try
        {
            var agent = """{"type":"tools","mcp_servers":[{"name":"calc","command":"python3","args":["calc.py"],"cwd":"/home/someone/job"}]}""";
            var snapshot = await ClusterFixture.RunToEnd(cluster.Client, "stdio-remote", fixture.Spec("stdio-remote", trainers: 1, maxSteps: 1) with { AgentJson = agent });
            Assert.Equal(JobStatus.Failed, snapshot.Status);
            Assert.StartsWith("agent.mcp_servers: 'calc' is a stdio server", snapshot.LastError);
            Assert.Contains("Rft:AllowLocalPaths", snapshot.LastError);
            Assert.Equal(0, snapshot.Step);
        }
        finally { await cluster.DisposeAsync(); }
    }

    [Fact]
    public async Task An_artifact_reference_other_than_an_upload_is_refused_naming_the_field_so_no_job_reads_another_jobs_outputs_or_the_whole_store()
    {
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        await store.WriteFileAsync("jobs/victim/secret.jsonl", fixture.DatasetPath); // another job's output, a valid dataset
        var stolen = await ClusterFixture.RunToEnd(fixture.Cluster.Client, "reads-victim", fixture.Spec("reads-victim", trainers: 1, maxSteps: 1) with { Dataset = "artifact:jobs/victim/secret.jsonl" });
        Assert.Equal(JobStatus.Failed, stolen.Status);
        Assert.StartsWith("dataset: 'artifact:jobs/victim/secret.jsonl' is not an uploaded file (artifact:sha256/<hex>/<name>) or folder (artifact:folder/<hex>)", stolen.LastError);
        var whole = await ClusterFixture.RunToEnd(fixture.Cluster.Client, "reads-store", fixture.Spec("reads-store", trainers: 1, maxSteps: 1) with { BaseModel = "artifact:jobs" });
        Assert.Equal(JobStatus.Failed, whole.Status);
        Assert.StartsWith("base_model: 'artifact:jobs' is not an uploaded file", whole.LastError);
    }

    [Fact]
    public async Task An_evaluator_item_past_its_timeout_comes_back_invalid_with_the_reason_at_the_deadline_not_after_the_work()
    {
        var random = new Random(3);
        string Text() => new(Enumerable.Range(0, 10_000).Select(_ => (char)('a' + random.Next(4))).ToArray());
        var items = Enumerable.Range(0, 3).Select(_ => new EvaluateItem(Text(), JsonValue.Create(Text()).ToJsonString(), "{}")).ToArray();
        var evaluator = fixture.Cluster.Client.GetGrain<IEvaluatorGrain>(0);
        await evaluator.Evaluate("""{"type":"exact_match"}""", fixture.Root, [new EvaluateItem("a", "\"a\"", "{}")], 5); // warm the activation
        var clock = Stopwatch.StartNew();
        var outcomes = await evaluator.Evaluate("""{"type":"string_similarity"}""", fixture.Root, items, 0.02);
        clock.Stop();
        Assert.All(outcomes, o =>
        {
            Assert.True(o.TimedOut, o.Reason);
            Assert.False(o.IsScoreValid);
            Assert.Contains("timed out", o.Reason);
        });
        // Three 10,000² distances take seconds on this machine; three 20 ms deadlines do not.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }
}
