using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Http;

/// <summary>
/// The cluster over a silo's HTTP endpoint (<c>--url</c>): the jobs API (<c>/v1/rft/…</c>), the same records as
/// the grains answer with. <c>watch</c> follows the job's event stream and reconnects from the last step it
/// saw when the connection drops.
/// </summary>
public sealed class HttpCluster(RftHttpClient client) : IRftCluster
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    /// <summary>The silo validates a submit against the uploaded datasets (and may materialize a model folder) first.</summary>
    static readonly TimeSpan SubmitTimeout = TimeSpan.FromMinutes(5);
    static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(30);
    /// <summary>The server sends a heartbeat every 15 s; this long without a byte is a dead connection.</summary>
    static readonly TimeSpan EventSilence = TimeSpan.FromSeconds(60);
    /// <summary>Reconnects of the event stream in a row without an event before watch gives up.</summary>
    const int MaxReconnects = 5;
    /// <summary>Retries of a submit whose answer was lost; safe because each carries the same Idempotency-Key.</summary>
    const int MaxSubmitAttempts = 3;

    public RftHttpClient Client { get; } = client;

    public async Task<JobSnapshot> Submit(JobSpec spec, JsonObject document, bool upload, Action<string>? progress, CancellationToken cancellation)
    {
        if (upload) spec = await new ArtifactUploader(new HttpArtifactSink(Client), progress).UploadInputs(spec, cancellation);
        var body = RequestBody(spec, document);
        var key = Guid.NewGuid().ToString();
        for (int attempt = 1; ; attempt++)
        {
            try { return await Client.SendAsync<JobSnapshot>(HttpMethod.Post, "v1/rft/jobs", body, SubmitTimeout, cancellation, r => r.Headers.Add("Idempotency-Key", key)); }
            catch (ClusterUnavailableException) when (attempt < MaxSubmitAttempts && !cancellation.IsCancellationRequested)
            {
                progress?.Invoke($"submit: no answer (attempt {attempt} of {MaxSubmitAttempts}), sending again");
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), cancellation);
            }
        }
    }

    /// <summary>
    /// The job file as the silo's parser reads it: the file's own keys, with its inputs replaced by what the
    /// parsed spec holds (artifact references after an upload, absolute paths without one), the evaluator's
    /// files inline (a request has no folder on the silo), and the name the file gave or implied.
    /// </summary>
    public static JsonObject RequestBody(JobSpec spec, JsonObject document)
    {
        var body = document.DeepClone().AsObject();
        body["name"] = spec.Name;
        body["base_model"] = spec.BaseModel;
        if (spec.BaseModelName is not null) body["base_model_name"] = spec.BaseModelName;
        body["dataset"] = spec.Dataset;
        if (spec.EvalDataset is not null) body["eval_dataset"] = spec.EvalDataset;
        else body.Remove("eval_dataset");
        body["evaluator"] = EvaluatorFactory.WithFilesInlined(JsonNode.Parse(spec.EvaluatorJson)!.AsObject(), "evaluator", spec.BaseDirectory);
        if (spec.AgentJson is not null) body["agent"] = JsonNode.Parse(spec.AgentJson);
        return body;
    }

    public async Task<IReadOnlyList<JobSnapshot>> Jobs(CancellationToken cancellation) =>
        (await Client.SendAsync<JobList>(HttpMethod.Get, "v1/rft/jobs", null, CallTimeout, cancellation)).Data;

    public Task<JobSnapshot> Get(string id, CancellationToken cancellation) =>
        Client.SendAsync<JobSnapshot>(HttpMethod.Get, $"v1/rft/jobs/{Escape(id)}", null, CallTimeout, cancellation);

    public async Task<IReadOnlyList<StepMetrics>> History(string id, int fromStep, CancellationToken cancellation) =>
        (await Client.SendAsync<MetricsList>(HttpMethod.Get, $"v1/rft/jobs/{Escape(id)}/metrics?from={Math.Max(0, fromStep)}", null, CallTimeout, cancellation)).Data;

    public Task<JobSnapshot> Control(string id, string verb, CancellationToken cancellation) =>
        Client.SendAsync<JobSnapshot>(HttpMethod.Post, $"v1/rft/jobs/{Escape(id)}:{verb}", null, CallTimeout, cancellation);

    public async Task<RolloutPage> Rollouts(string id, int? step, int offset, int count, CancellationToken cancellation)
    {
        var query = $"offset={offset}&limit={Math.Clamp(count, 1, JobsApi.MaxRolloutsLimit)}" + (step is int s ? $"&step={s}" : "");
        var list = await Client.SendAsync<RolloutList>(HttpMethod.Get, $"v1/rft/jobs/{Escape(id)}/rollouts?{query}", null, CallTimeout, cancellation);
        return new RolloutPage(list.Step, list.Offset, list.Data.ToArray(), list.Total);
    }

    public async IAsyncEnumerable<JobProgress> Follow(string id, [EnumeratorCancellation] CancellationToken cancellation)
    {
        JobSnapshot? snapshot = null;
        int seen = 0, reconnects = 0;
        while (true)
        {
            Exception? dropped = null;
            HttpResponseMessage? response = null;
            var request = new HttpRequestMessage(HttpMethod.Get, $"v1/rft/jobs/{Escape(id)}/events?from={seen + 1}");
            request.Headers.Accept.Add(new("text/event-stream"));
            try { response = await Client.OpenAsync(request, CallTimeout, cancellation); }
            catch (ClusterUnavailableException x) when (reconnects < MaxReconnects) { dropped = x; } // a 404 or 401 is not retried
            if (response is not null)
                using (response)
                {
                    // A 200 that is not an event stream (a proxy's login page) would only ever "drop": say so at once.
                    if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
                        throw new ClusterUnavailableException($"GET {response.RequestMessage?.RequestUri} answered {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not an event stream; is --url / RFT_URL the silo's HTTP endpoint (such as http://silo:8080)?");
                    var events = NamedServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(cancellation), EventSilence, cancellation).GetAsyncEnumerator(cancellation);
                    try
                    {
                        while (true)
                        {
                            var (e, broken) = await Next(events, cancellation);
                            if (e is null) { dropped = broken; break; }
                            reconnects = 0;
                            if (e.Name == "snapshot")
                            {
                                snapshot = RftJson.Deserialize<JobSnapshot>(e.Data);
                                yield return new JobProgress(snapshot, []);
                            }
                            else if (e.Name == "metrics" && snapshot is not null)
                            {
                                var steps = RftJson.Deserialize<MetricsList>(e.Data).Data;
                                if (steps.Count > 0) seen = steps[^1].Step;
                                yield return new JobProgress(snapshot, steps);
                            }
                            else if (e.Name == "end")
                            {
                                yield return new JobProgress(RftJson.Deserialize<JobSnapshot>(e.Data), []);
                                yield break;
                            }
                            else if (e.Name == "error")
                                throw new ClusterUnavailableException($"watching {id}: {JsonNode.Parse(e.Data)?["error"]?["message"]?.GetValue<string>() ?? e.Data}");
                        }
                    }
                    finally { await events.DisposeAsync(); }
                }
            request.Dispose();
            // the stream ended without "end": the connection dropped (or its silo went); continue after the last step seen
            if (++reconnects > MaxReconnects)
                throw new ClusterUnavailableException($"the event stream of {id} at {Client.Root} broke {MaxReconnects} times in a row{(dropped is null ? "" : $" ({dropped.Message})")}; `rft status {id}` shows where it is.");
            await Task.Delay(TimeSpan.FromSeconds(2 * reconnects), cancellation);
        }
    }

    /// <summary>The next event, or null with the reason when the stream ended or broke (a dropped connection is not an error to the caller: it reconnects).</summary>
    static async Task<(NamedEvent? Event, Exception? Broken)> Next(IAsyncEnumerator<NamedEvent> events, CancellationToken cancellation)
    {
        try { return await events.MoveNextAsync() ? (events.Current, null) : (null, null); }
        catch (Exception e) when (e is IOException or HttpRequestException or TimeoutException && !cancellation.IsCancellationRequested) { return (null, e); }
    }

    /// <summary>Downloads the adapter zip to the output folder, then writes its two files (and nothing else it may hold) beside it.</summary>
    public async Task<ExportedAdapter> Export(string id, int? step, string outDirectory, CancellationToken cancellation)
    {
        Directory.CreateDirectory(outDirectory);
        var zipPath = Path.Combine(outDirectory, ".adapter-download.zip");
        int exportedStep;
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"v1/rft/jobs/{Escape(id)}/adapter" + (step is int s ? $"?step={s}" : "")))
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
        {
            deadline.CancelAfter(DownloadTimeout);
            using var response = await Client.OpenAsync(request, CallTimeout, deadline.Token);
            exportedStep = response.Headers.TryGetValues("X-Rft-Adapter-Step", out var values) && int.TryParse(values.FirstOrDefault(), out var n) ? n
                : throw new ClusterUnavailableException($"{Client.Root} sent an adapter without its step (X-Rft-Adapter-Step); is --url an Orleans.Rft silo?");
            try
            {
                await using var file = File.Create(zipPath);
                await response.Content.CopyToAsync(file, deadline.Token);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellation.IsCancellationRequested)
            {
                File.Delete(zipPath);
                throw new ClusterUnavailableException($"the adapter download from {Client.Root} broke off: {e.Message}; run rft export again.");
            }
        }
        try
        {
            long weights;
            await using (var zip = await ZipArchive.CreateAsync(File.OpenRead(zipPath), ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, cancellation))
            {
                var config = zip.GetEntry("adapter_config.json") ?? throw new InvalidDataException("the adapter zip has no adapter_config.json.");
                var model = zip.GetEntry("adapter_model.safetensors") ?? throw new InvalidDataException("the adapter zip has no adapter_model.safetensors.");
                await config.ExtractToFileAsync(Path.Combine(outDirectory, "adapter_config.json"), overwrite: true, cancellation);
                var tmp = Path.Combine(outDirectory, "adapter_model.safetensors.tmp");
                await model.ExtractToFileAsync(tmp, overwrite: true, cancellation);
                File.Move(tmp, Path.Combine(outDirectory, "adapter_model.safetensors"), overwrite: true);
                weights = model.Length;
            }
            return new ExportedAdapter(exportedStep, weights);
        }
        finally { File.Delete(zipPath); }
    }

    public Task<Deployment> Deploy(string name, string jobId, int? step, CancellationToken cancellation)
    {
        var body = new JsonObject { ["name"] = name, ["job_id"] = jobId };
        if (step is int s) body["step"] = s;
        return Client.SendAsync<Deployment>(HttpMethod.Post, "v1/rft/deployments", body, DeployTimeout, cancellation);
    }

    public async Task<bool> Undeploy(string name, CancellationToken cancellation)
    {
        try
        {
            await Client.SendAsync<UndeployResult>(HttpMethod.Delete, $"v1/rft/deployments/{Escape(name)}", null, CallTimeout, cancellation);
            return true;
        }
        catch (RftHttpRefusal e) when (e.Code == "deployment_not_found") { return false; }
    }

    public async Task<IReadOnlyList<Deployment>> Deployments(CancellationToken cancellation) =>
        (await Client.SendAsync<DeploymentList>(HttpMethod.Get, "v1/rft/deployments", null, CallTimeout, cancellation)).Data;

    static string Escape(string segment) => Uri.EscapeDataString(segment);

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        return ValueTask.CompletedTask;
    }
}
