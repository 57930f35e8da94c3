using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>A file missing while a job runs (a cached copy evicted or deleted) is retried; only a spec's own errors end the job.</summary>
public sealed class JobFailureTests
{
    [Fact]
    public void A_missing_file_fails_a_job_only_while_it_validates_and_a_running_job_retries_it()
    {
        var missing = new FileNotFoundException("'/cache/…/model.safetensors' not found");
        Assert.True(JobFailures.IsPermanent(missing, JobStatus.Validating));  // base_model without config.json, an upload not in the store
        Assert.False(JobFailures.IsPermanent(missing, JobStatus.Running));    // evicted from the blob cache: the retry materializes it again
        Assert.False(JobFailures.IsPermanent(new DirectoryNotFoundException(), JobStatus.Running));
        Assert.True(JobFailures.IsPermanent(new SpecException("training.lr", "must be > 0"), JobStatus.Running));
        Assert.True(JobFailures.IsPermanent(new InvalidDataException("train.jsonl:3"), JobStatus.Running));
        Assert.False(JobFailures.IsPermanent(new TimeoutException(), JobStatus.Running));
    }

    [Fact]
    public void An_evaluator_spec_nested_past_the_json_readers_depth_fails_the_job_once_instead_of_retrying()
    {
        // What a client other than rft can send: the silo's own parse of the evaluator JSON throws.
        var json = new string('[', 200) + new string(']', 200);
        var e = Record.Exception(() => System.Text.Json.Nodes.JsonNode.Parse(json));
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(e);
        Assert.True(JobFailures.IsPermanent(e!, JobStatus.Validating));
    }
}
