using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The jobs API's writes: resumable uploads, submit, control, adapter download, deployments, and the OpenAPI document.</summary>
[Collection(JobsHttpCollection.Name)]
public sealed class JobsHttpWriteTests(JobsHttpFixture fx)
{
    static void AssertError(JsonObject body, string? param, string? code = null)
    {
        var error = body["error"]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(param, error["param"]?.GetValue<string>());
        if (code is not null) Assert.Equal(code, error["code"]?.GetValue<string>());
    }

    static async Task<(int Status, JsonObject Body)> Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Fact]
    public async Task The_openapi_document_lists_every_mapped_v1_rft_route_with_its_methods_and_nothing_else()
    {
        var mapped = ((IEndpointRouteBuilder)fx.Host.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/v1/rft", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m.ToLowerInvariant()} {e.RoutePattern.RawText!.TrimEnd('/')}"))
            .Order().ToList();
        using var http = fx.Http();
        var (status, doc) = await Get(http, "v1/rft/openapi.json");
        Assert.Equal(200, status);
        Assert.Equal("3.1.0", doc["openapi"]!.GetValue<string>());
        var documented = doc["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(m => $"{m.Key} {p.Key}")).Order().ToList();
        Assert.True(mapped.Count >= 17, string.Join("\n", mapped));
        Assert.Equal(mapped, documented);
        // the schemas are the serialized records: snake_case names, the status enum as names
        var snapshot = doc["components"]!["schemas"]!["JobSnapshot"]!["properties"]!.AsObject();
        Assert.Contains("job_id", snapshot.Select(p => p.Key));
        Assert.Contains("completed", snapshot["status"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        using var anonymous = fx.Http(null);
        Assert.Equal(401, (await Get(anonymous, "v1/rft/openapi.json")).Status);
    }

    [Fact]
    public async Task An_upload_resumes_in_its_session_after_a_dropped_connection_and_stores_bytes_that_hash_to_its_name()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i}\n")));
        var sha = JobsHttpUploads.Sha256(bytes);
        string session;
        using (var first = fx.Http())
        {
            var begin = await JobsHttpUploads.Begin(first, sha, bytes.Length);
            Assert.False(begin["stored"]!.GetValue<bool>());
            Assert.Equal(0, begin["received"]!.GetValue<long>());
            session = begin["session"]!.GetValue<string>();
            var (status, body) = await JobsHttpUploads.Put(first, sha, session, 0, bytes.AsMemory(0, 50_000));
            Assert.Equal(200, status);
            Assert.Equal(50_000, body["received"]!.GetValue<long>());
        } // the client goes away mid-upload
        using var second = fx.Http();
        var resumed = await JobsHttpUploads.Begin(second, sha, bytes.Length, session);
        Assert.Equal(50_000, resumed["received"]!.GetValue<long>());
        var (stale, staleBody) = await JobsHttpUploads.Put(second, sha, session, 0, bytes.AsMemory(0, 10)); // a chunk sent twice
        Assert.Equal(409, stale);
        AssertError(staleBody, "offset", "upload_offset");
        var (rest, _) = await JobsHttpUploads.Put(second, sha, session, 50_000, bytes.AsMemory(50_000));
        Assert.Equal(200, rest);
        var (done, stored) = await JobsHttpUploads.Complete(second, sha, session);
        Assert.True(done == 200, stored.ToJsonString());
        Assert.Equal($"artifact:sha256/{sha}/", stored["reference"]!.GetValue<string>());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(fx.Options().ArtifactsPath!, ArtifactReference.UploadPath(sha))));
        var again = await JobsHttpUploads.Begin(second, sha, bytes.Length);
        Assert.True(again["stored"]!.GetValue<bool>());
        Assert.Equal(bytes.Length, again["received"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_upload_whose_bytes_do_not_hash_to_its_announced_sha256_is_refused_with_400_and_discarded()
    {
        var announced = Encoding.UTF8.GetBytes("the announced content, 32 bytes");
        var sent = Encoding.UTF8.GetBytes("something else of the same size!"[..announced.Length]);
        var sha = JobsHttpUploads.Sha256(announced);
        using var http = fx.Http();
        var session = (await JobsHttpUploads.Begin(http, sha, announced.Length))["session"]!.GetValue<string>();
        Assert.Equal(200, (await JobsHttpUploads.Put(http, sha, session, 0, sent)).Status);
        var (status, body) = await JobsHttpUploads.Complete(http, sha, session);
        Assert.Equal(400, status);
        AssertError(body, "sha256", "invalid_data");
        Assert.False(File.Exists(Path.Combine(fx.Options().ArtifactsPath!, ArtifactReference.UploadPath(sha))));
        Assert.Equal(0, (await JobsHttpUploads.Begin(http, sha, announced.Length, session))["received"]!.GetValue<long>()); // its bytes are gone
    }

    [Theory]
    [InlineData("""{"sha256":"abc","size":1}""", "sha256")]
    [InlineData("""{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":-1}""", "size")]
    [InlineData("""{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":1,"session":"nope"}""", "session")]
    [InlineData("""{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":1,"path":"/etc"}""", "path")]
    [InlineData("""[1]""", null)]
    public async Task A_bad_upload_start_is_a_400_naming_the_field(string json, string? param)
    {
        using var http = fx.Http();
        var (status, body) = await http.PostAsync("v1/rft/artifacts", json);
        Assert.Equal(400, status);
        AssertError(body, param);
    }

    [Fact]
    public async Task A_chunk_over_4_MiB_is_a_413()
    {
        var sha = JobsHttpUploads.Sha256([1]);
        using var http = fx.Http();
        var session = (await JobsHttpUploads.Begin(http, sha, 5 << 20))["session"]!.GetValue<string>();
        var (status, body) = await JobsHttpUploads.Put(http, sha, session, 0, new byte[(4 << 20) + 1]);
        Assert.Equal(413, status);
        AssertError(body, null, "request_too_large");
    }

    [Fact]
    public async Task A_spec_with_paths_is_refused_naming_each_field_and_bad_settings_come_in_the_same_answer()
    {
        using var http = fx.Http();
        var spec = fx.TinySpec("bad", 1);
        spec["dataset"] = "train.jsonl";
        spec["eval_dataset"] = fx.Toy.DatasetPath; // absolute, but this cluster reads no local paths
        spec["training"]!["learning_rate"] = 5;
        var (status, body) = await http.PostAsync("v1/rft/jobs", spec);
        Assert.Equal(400, status);
        AssertError(body, "dataset");
        var message = body["error"]!["message"]!.GetValue<string>();
        Assert.Contains("dataset: 'train.jsonl' is a path", message);
        Assert.Contains("eval_dataset:", message);
        Assert.Contains("AllowLocalPaths", message);
        Assert.Contains("training.learning_rate", message);

        var missing = fx.TinySpec("missing", 1);
        missing["dataset"] = ArtifactReference.ForFile(new string('0', 64), "train.jsonl");
        (status, body) = await http.PostAsync("v1/rft/jobs", missing);
        Assert.Equal(400, status);
        AssertError(body, "dataset");
        Assert.Contains("POST /v1/rft/artifacts", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await http.PostAsync("v1/rft/jobs", "{not json");
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task A_submit_retried_with_the_same_idempotency_key_is_the_same_job()
    {
        using var http = fx.Http();
        var ids = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/rft/jobs") { Content = new StringContent(fx.TinySpec("idem", 1).ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "retry-test-1");
            using var response = await http.SendAsync(request);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True((int)response.StatusCode == 201, body.ToJsonString());
            Assert.Equal($"/v1/rft/jobs/{body["job_id"]}", response.Headers.Location!.OriginalString);
            ids.Add(body["job_id"]!.GetValue<string>());
        }
        Assert.Equal(ids[0], ids[1]);
        await fx.WaitForEnd(ids[0]);
    }

    [Fact]
    public async Task A_job_submitted_over_http_streams_each_step_once_in_order_and_ends_completed()
    {
        using var http = fx.Http();
        // Every step evaluates: the snapshot's step moves on while the step's evaluation runs, before its metrics are
        // kept, and a stream that took the snapshot's step as sent skipped such steps for good.
        var spec = fx.TinySpec("http-events", 4);
        spec["eval_dataset"] = spec["dataset"]!.GetValue<string>();
        spec["eval_every"] = 1;
        var (status, submitted) = await http.PostAsync("v1/rft/jobs", spec);
        Assert.True(status == 201, submitted.ToJsonString());
        var id = submitted["job_id"]!.GetValue<string>();
        Assert.Contains(submitted["status"]!.GetValue<string>(), new[] { "pending", "validating", "running" });
        using var response = await http.GetAsync($"v1/rft/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        var events = ServerSentEventsText.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("snapshot", events[0].Name);
        Assert.Equal("end", events[^1].Name);
        Assert.Equal("completed", events[^1].Data["status"]!.GetValue<string>());
        Assert.All(events[1..^1], e => Assert.Contains(e.Name, new[] { "snapshot", "metrics" }));
        var steps = events.Where(e => e.Name == "metrics").SelectMany(e => e.Data["data"]!.AsArray().Select(m => m!["step"]!.GetValue<int>())).ToList();
        Assert.Equal([1, 2, 3, 4], steps);
    }

    [Fact]
    public async Task Pause_holds_a_job_resume_continues_it_cancel_ends_it_and_control_of_an_ended_job_is_a_409()
    {
        using var http = fx.Http();
        var (_, submitted) = await http.PostAsync("v1/rft/jobs", fx.TinySpec("http-control", 200));
        var id = submitted["job_id"]!.GetValue<string>();
        var (status, paused) = await http.PostAsync($"v1/rft/jobs/{id}:pause", "");
        Assert.True(status == 200, paused.ToJsonString());
        var held = await Until(http, id, s => s["status"]!.GetValue<string>() == "paused");
        var step = held["step"]!.GetValue<int>();
        await Task.Delay(1500);
        Assert.Equal(step, (await Get(http, $"v1/rft/jobs/{id}")).Body["step"]!.GetValue<int>()); // paused: no step runs
        (status, _) = await http.PostAsync($"v1/rft/jobs/{id}:resume", "");
        Assert.Equal(200, status);
        await Until(http, id, s => s["step"]!.GetValue<int>() > step);
        (status, _) = await http.PostAsync($"v1/rft/jobs/{id}:cancel", "");
        Assert.Equal(200, status);
        Assert.Equal(JobStatus.Cancelled, (await fx.WaitForEnd(id)).Status);
        var (again, body) = await http.PostAsync($"v1/rft/jobs/{id}:pause", "");
        Assert.Equal(409, again);
        AssertError(body, "id", "job_ended");
        (again, body) = await http.PostAsync("v1/rft/jobs/no-such-job:cancel", "");
        Assert.Equal(404, again);
    }

    static async Task<JsonObject> Until(HttpClient http, string id, Func<JsonObject, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var (_, s) = await Get(http, $"v1/rft/jobs/{id}");
            if (condition(s)) return s;
            Assert.True(DateTime.UtcNow < deadline, $"job {id} never got there: {s.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_adapter_zip_holds_the_peft_files_with_the_weights_the_job_grain_has_for_that_step()
    {
        using var http = fx.Http();
        foreach (int? step in new int?[] { null, 2 })
        {
            using var response = await http.GetAsync($"v1/rft/jobs/{fx.DoneJobId}/adapter{(step is null ? "" : $"?step={step}")}");
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
            var info = await fx.Grains.GetGrain<IJobGrain>(fx.DoneJobId).GetAdapter(step);
            Assert.Equal(info.Step.ToString(), response.Headers.GetValues("X-Rft-Adapter-Step").Single());
            using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
            Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], zip.Entries.Select(e => e.FullName).Order());
            using (var reader = new StreamReader(zip.GetEntry("adapter_config.json")!.Open()))
                Assert.Equal(info.ConfigJson, await reader.ReadToEndAsync());
            var weights = new MemoryStream();
            await zip.GetEntry("adapter_model.safetensors")!.Open().CopyToAsync(weights);
            var expected = await fx.Grains.GetGrain<IJobGrain>(fx.DoneJobId).GetAdapterChunk(info.ArtifactPath, 0, (int)info.WeightsBytes);
            Assert.Equal(expected, weights.ToArray());
        }
        var (bad, body) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/adapter?step=99");
        Assert.Equal(400, bad);
        AssertError(body, "step");
    }

    [Fact]
    public async Task A_deployed_adapter_answers_chat_by_its_name_until_it_is_undeployed()
    {
        using var http = fx.Http();
        var (status, deployed) = await http.PostAsync("v1/rft/deployments", new JsonObject { ["name"] = "http-toy", ["job_id"] = fx.DoneJobId });
        Assert.True(status == 201, deployed.ToJsonString());
        Assert.Equal(JobsHttpFixture.DoneSteps, deployed["step"]!.GetValue<int>());
        Assert.Equal("toy", deployed["base_model"]!.GetValue<string>());
        var (_, list) = await Get(http, "v1/rft/deployments");
        Assert.Contains("http-toy", list["data"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()));
        var chat = new JsonObject { ["model"] = "http-toy", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "go" }), ["max_tokens"] = 4 };
        var deadline = DateTime.UtcNow.AddSeconds(30); // every silo reads the deployments list at most every 3 s
        (int Status, JsonObject Body) answer;
        while ((answer = await http.PostAsync("v1/chat/completions", chat)).Status != 200 && DateTime.UtcNow < deadline) await Task.Delay(250);
        Assert.True(answer.Status == 200, answer.Body.ToJsonString());
        using (var delete = await http.DeleteAsync("v1/rft/deployments/http-toy")) Assert.Equal(200, (int)delete.StatusCode);
        using (var again = await http.DeleteAsync("v1/rft/deployments/http-toy")) Assert.Equal(404, (int)again.StatusCode);
        (status, var refused) = await http.PostAsync("v1/rft/deployments", new JsonObject { ["name"] = "bad name!", ["job_id"] = fx.DoneJobId });
        Assert.Equal(400, status);
        AssertError(refused, "name");
        (status, refused) = await http.PostAsync("v1/rft/deployments", new JsonObject { ["name"] = "x", ["job_id"] = "no-such-job" });
        Assert.Equal(404, status);
    }
}
