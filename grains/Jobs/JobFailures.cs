using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Which failures of a job's tick end the job and which it retries from its last checkpoint. A bad
/// spec, bad data or an unsupported model never gets better by retrying. A missing file is the spec's
/// fault only while the job validates (a base_model without config.json, an upload that is not in the
/// store); once running, it is a cached copy that went away (evicted from the blob cache, deleted),
/// which the retry materializes again. JSON that does not parse never will.
/// </summary>
public static class JobFailures
{
    public static bool IsPermanent(Exception e, JobStatus status) =>
        e is SpecException or InvalidDataException or ArgumentException or NotSupportedException
        // a spec's JSON that does not parse (an evaluator nested past the reader's depth, sent by a client other than rft)
        || e is System.Text.Json.JsonException
        || e is FileNotFoundException && status == JobStatus.Validating;
}
