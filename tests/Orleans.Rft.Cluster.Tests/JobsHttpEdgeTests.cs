using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.BuiltIn;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The jobs API where clients get it wrong or the document meets real answers: the OpenAPI schemas against
/// the routes' own JSON, uploads completed early, overfilled or crowded, a chunked oversized spec, and
/// errors that name the field the caller sent.
/// </summary>
[Collection(JobsHttpCollection.Name)]
public sealed class JobsHttpEdgeTests(JobsHttpFixture fx)
{
    static async Task<(int Status, JsonNode Body)> Send(HttpClient http, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    static string Message(JsonNode body) => body["error"]!["message"]!.GetValue<string>();

    [Fact]
    public async Task The_openapi_schemas_accept_the_answers_the_routes_give_null_eval_rewards_included()
    {
        using var http = fx.Http();
        var schemas = (await Send(http, HttpMethod.Get, "v1/rft/openapi.json")).Body["components"]!["schemas"]!;
        // the fixture's job ran without evaluations: its eval rewards are null, which the document must allow
        foreach (var (schema, path) in new[]
        {
            ("JobSnapshot", $"v1/rft/jobs/{fx.DoneJobId}"), ("JobList", "v1/rft/jobs"), ("MetricsList", $"v1/rft/jobs/{fx.DoneJobId}/metrics"),
            ("RolloutList", $"v1/rft/jobs/{fx.DoneJobId}/rollouts?limit=3"), ("RolloutList", $"v1/rft/jobs/{fx.DoneJobId}/rollouts?best=2&worst=2"),
            ("DeploymentList", "v1/rft/deployments"),
        })
        {
            var (status, answer) = await Send(http, HttpMethod.Get, path);
            Assert.Equal(200, status);
            var check = SchemaCheck.Compile(schemas[schema]!.DeepClone().AsObject(), schema);
            Assert.True(check.Validate(answer) is null, $"{path} against {schema}: {check.Validate(answer)}");
        }
        var snapshot = (await Send(http, HttpMethod.Get, $"v1/rft/jobs/{fx.DoneJobId}")).Body;
        Assert.Null(snapshot["latest_eval_reward"]); // the case the check above covers, present in the answer
        Assert.True(snapshot.AsObject().ContainsKey("latest_eval_reward"));
    }

    [Fact]
    public async Task Completing_an_upload_before_all_its_bytes_is_a_409_that_keeps_them_so_the_rest_can_follow()
    {
        var bytes = Encoding.UTF8.GetBytes("completed too early, then finished\n");
        var sha = JobsHttpUploads.Sha256(bytes);
        using var http = fx.Http();
        var session = (await JobsHttpUploads.Begin(http, sha, bytes.Length))["session"]!.GetValue<string>();
        Assert.Equal(200, (await JobsHttpUploads.Put(http, sha, session, 0, bytes.AsMemory(0, 10))).Status);
        var (status, body) = await JobsHttpUploads.Complete(http, sha, session);
        Assert.Equal(409, status);
        Assert.Equal("upload_incomplete", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal("session", body["error"]!["param"]!.GetValue<string>());
        Assert.Contains($"10 of {bytes.Length} bytes", Message(body));
        Assert.Equal(10, (await JobsHttpUploads.Begin(http, sha, bytes.Length, session))["received"]!.GetValue<long>()); // kept
        Assert.Equal(200, (await JobsHttpUploads.Put(http, sha, session, 10, bytes.AsMemory(10))).Status);
        (status, body) = await JobsHttpUploads.Complete(http, sha, session);
        Assert.True(status == 200, body.ToJsonString());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(fx.Options().ArtifactsPath!, GrainInterfaces.ArtifactReference.UploadPath(sha))));
    }

    [Fact]
    public async Task Bytes_past_an_uploads_announced_size_are_a_400_naming_offset_and_how_many_may_follow()
    {
        var bytes = Encoding.UTF8.GetBytes("twelve bytes");
        var sha = JobsHttpUploads.Sha256(bytes);
        using var http = fx.Http();
        var session = (await JobsHttpUploads.Begin(http, sha, bytes.Length))["session"]!.GetValue<string>();
        Assert.Equal(200, (await JobsHttpUploads.Put(http, sha, session, 0, bytes.AsMemory(0, 4))).Status);
        var (status, body) = await JobsHttpUploads.Put(http, sha, session, 4, Encoding.UTF8.GetBytes("and a great deal more"));
        Assert.Equal(400, status);
        Assert.Equal("offset", body["error"]!["param"]!.GetValue<string>());
        Assert.Contains("at most 8 more", Message(body));
        Assert.Equal(4, (await JobsHttpUploads.Begin(http, sha, bytes.Length, session))["received"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_upload_session_past_the_files_limit_is_a_409_upload_sessions_naming_no_field()
    {
        var sha = JobsHttpUploads.Sha256(Encoding.UTF8.GetBytes($"crowded {Guid.NewGuid()}"));
        using var http = fx.Http();
        for (int i = 0; i < 8; i++) await JobsHttpUploads.Begin(http, sha, 40);
        var (status, body) = await http.PostAsync("v1/rft/artifacts", new JsonObject { ["sha256"] = sha, ["size"] = 40 });
        Assert.Equal(409, status);
        Assert.Equal("upload_sessions", body["error"]!["code"]!.GetValue<string>());
        Assert.Null(body["error"]!["param"]);
        Assert.Contains("8 uploads of this file", Message(body));
    }

    [Fact]
    public async Task A_job_spec_over_1_MiB_sent_chunked_is_a_413_that_says_to_upload_inputs_as_artifacts()
    {
        using var http = fx.Http();
        var spec = fx.TinySpec("huge", 1);
        spec["padding"] = new string('x', 1 << 20);
        var content = new ChunkedContent(Encoding.UTF8.GetBytes(spec.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (status, body) = await Send(http, HttpMethod.Post, "v1/rft/jobs", content);
        Assert.Equal(413, status);
        Assert.Equal("request_too_large", body["error"]!["code"]!.GetValue<string>());
        Assert.Contains("upload datasets and models as artifacts", Message(body));
        Assert.DoesNotContain("log line", Message(body));
    }

    [Fact]
    public async Task Deploying_an_unknown_job_names_job_id_and_undeploying_a_name_no_deploy_takes_is_a_short_404()
    {
        using var http = fx.Http();
        var (status, body) = await http.PostAsync("v1/rft/deployments", new JsonObject { ["name"] = "edge-v1", ["job_id"] = "no-such-job" });
        Assert.Equal(404, status);
        Assert.Equal("job_id", body["error"]!["param"]!.GetValue<string>());
        var longName = new string('n', 5000);
        var (undeployed, answer) = await Send(http, HttpMethod.Delete, $"v1/rft/deployments/{longName}");
        Assert.Equal(404, undeployed);
        Assert.Equal("deployment_not_found", answer["error"]!["code"]!.GetValue<string>());
        Assert.True(Message(answer).Length < 200, Message(answer));
    }

    [Fact]
    public async Task A_GET_of_a_control_verb_is_a_404_that_says_control_is_a_POST()
    {
        using var http = fx.Http();
        var (status, body) = await Send(http, HttpMethod.Get, $"v1/rft/jobs/{fx.DoneJobId}:cancel");
        Assert.Equal(404, status);
        Assert.Contains($"POST /v1/rft/jobs/{fx.DoneJobId}:cancel", Message(body));
    }

    [Fact]
    public async Task A_submit_with_a_stdio_mcp_server_where_local_paths_are_off_is_a_400_naming_its_command_not_a_job_that_fails()
    {
        using var http = fx.Http();
        var spec = fx.TinySpec("http-stdio", 1);
        spec["agent"] = JsonNode.Parse("""{"type": "tools", "mcp_servers": [{"name": "web", "url": "http://127.0.0.1:9/mcp"}, {"name": "sh", "command": "/bin/sh", "args": ["-c", "id"]}]}""");
        var before = (await Send(http, HttpMethod.Get, "v1/rft/jobs")).Body["data"]!.AsArray().Count;
        var (status, body) = await http.PostAsync("v1/rft/jobs", spec);
        Assert.Equal(400, status);
        Assert.Equal("agent.mcp_servers[1].command", body["error"]!["param"]!.GetValue<string>());
        Assert.Contains("Rft:AllowLocalPaths", Message(body));
        Assert.Equal(before, (await Send(http, HttpMethod.Get, "v1/rft/jobs")).Body["data"]!.AsArray().Count); // no job was made
    }

    [Fact]
    public async Task The_events_stream_stops_polling_its_job_once_the_client_disconnects()
    {
        using var http = fx.Http();
        var (status, submitted) = await http.PostAsync("v1/rft/jobs", fx.TinySpec("http-sse-leave", 200));
        Assert.True(status == 201, submitted.ToJsonString());
        var id = submitted["job_id"]!.GetValue<string>();
        Assert.Equal(200, (await http.PostAsync($"v1/rft/jobs/{id}:pause", "")).Status); // held, not ended: the stream would poll it forever
        try
        {
            using (var response = await http.GetAsync($"v1/rft/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
                var stream = await response.Content.ReadAsStreamAsync();
                Assert.True(await stream.ReadAsync(new byte[256]) > 0); // the first snapshot event arrived
                var atStart = fx.SnapshotCalls.Of(id);
                await Until(() => fx.SnapshotCalls.Of(id) >= atStart + 2, "the stream never polled"); // one poll a second while connected
            } // the client leaves: the connection closes
            await Task.Delay(JobEventsApi.PollInterval * 3); // a poll already under way may still land
            var afterLeaving = fx.SnapshotCalls.Of(id);
            await Task.Delay(JobEventsApi.PollInterval * 5);
            Assert.Equal(afterLeaving, fx.SnapshotCalls.Of(id));
        }
        finally
        {
            await http.PostAsync($"v1/rft/jobs/{id}:cancel", "");
            await fx.WaitForEnd(id);
        }
    }

    static async Task Until(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }

    /// <summary>A body of unknown length, so HttpClient sends it chunked, without a Content-Length to refuse early.</summary>
    sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();
        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }
}
