using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// A rollout run by a remote agent server (DESIGN §5, Eval Protocol's remote rollout processor): a small
/// state machine with a deadline, <c>init → running → finished | failed(reason)</c>.
/// <list type="number">
/// <item><c>POST {url}/init</c>; retried with backoff on 5xx and connection errors within the deadline,
/// never on 4xx (<c>init_refused</c>).</item>
/// <item>The agent calls <c>model_base_url</c> = <c>/rollouts/{id}/v1</c> on this silo with the rollout's
/// token; each call samples the policy and is recorded (<see cref="IPolicy.Calls"/>: the trajectory).</item>
/// <item>It ends at the first of: <c>GET {url}/status</c> answering <c>terminated: true</c> (polled every
/// <c>poll_interval_seconds</c>; a 404 stops polling), a status pushed to the silo or sent as a log line,
/// repeated wrong tokens (<c>bad_token</c>, after <see cref="RemoteRolloutRegistry.MaxRefusedCalls"/> refused calls), a garbage status (<c>bad_status</c>), the deadline (<c>deadline</c>,
/// or <c>server_error</c> while <c>/init</c> kept failing).</item>
/// </list>
/// The deadline (<c>timeout_seconds</c>) runs from when the step starts the rollout, the wait for one of
/// the agent's <c>max_concurrent_rollouts</c> slots included (Eval Protocol starts it at the slot): a step's
/// rollouts are one rollout-worker call of at most 10 minutes, so every rollout must end inside
/// <c>timeout_seconds</c> (≤ 540) however many queue. The token is revoked when the rollout ends.
/// </summary>
public sealed class RemoteAgent(RemoteAgentSpec spec, RemoteRolloutRegistry registry, RemoteAgentEndpoint endpoint, HttpClient http) : IAgent
{
    /// <summary>Eval Protocol's own bounds on one call: /init must answer at once (30 s), /status within 15 s.</summary>
    static readonly TimeSpan InitCallTimeout = TimeSpan.FromSeconds(30), StatusCallTimeout = TimeSpan.FromSeconds(15);
    /// <summary>
    /// The most of an agent server's reply the silo reads (1 MiB): a status is a few hundred bytes, and one
    /// rollout's reply must not take the silo's memory. A longer /status reply ends the rollout as <c>bad_status</c>.
    /// </summary>
    public const int MaxReplyBytes = 1 << 20;
    static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250), MaxBackoff = TimeSpan.FromSeconds(4);

    readonly SemaphoreSlim slots = new(spec.MaxConcurrentRollouts, spec.MaxConcurrentRollouts);

    public RemoteAgentSpec Spec => spec;

    public async Task<AgentTrajectory> RunAsync(AgentRollout rollout, CancellationToken cancellation)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(spec.TimeoutSeconds);
        if (!await slots.WaitAsync(TimeSpan.FromSeconds(spec.TimeoutSeconds), cancellation))
            return AgentTrajectory.Failed(AgentFailureKinds.Deadline,
                $"the rollout waited all of timeout_seconds ({spec.TimeoutSeconds:0.###} s) for one of the agent's max_concurrent_rollouts ({spec.MaxConcurrentRollouts}) slots; raise either, or make fewer rollouts a step");
        try { return await RunOneAsync(rollout, deadline, cancellation); }
        finally { slots.Release(); }
    }

    async Task<AgentTrajectory> RunOneAsync(AgentRollout rollout, DateTimeOffset deadline, CancellationToken cancellation)
    {
        var timeout = deadline - DateTimeOffset.UtcNow;
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        var model = $"jobs/{rollout.Ids.ExperimentId}";
        var rowPrompt = RemoteInitRequest.Messages(rollout.Messages);
        var (session, token) = registry.Open(rollout.RolloutId, model, rollout.Policy, deadline);
        var progress = new Progress();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        try
        {
            var init = RemoteInitRequest.Build(rollout, model, endpoint.ModelBaseUrl(rollout.RolloutId), token, rowPrompt);
            var driver = DriveAsync(session, init, progress, stop.Token);
            await Task.WhenAny(session.End, Task.Delay(timeout, stop.Token)).ConfigureAwait(false); // stop also ends the timer when the rollout ends first
            if (!session.End.IsCompleted)
                session.TryEnd(progress.Initialised || progress.Note.Length == 0 // /init answered, or its first try was still under way: the time ran out, nothing failed
                    ? RolloutEnd.Failed(AgentFailureKinds.Deadline, $"the agent did not finish within timeout_seconds ({spec.TimeoutSeconds:0.###} s){(progress.Initialised ? "" : ", its /init still unanswered")}{progress.Note}")
                    : RolloutEnd.Failed(AgentFailureKinds.ServerError, $"POST {spec.Url}/init did not succeed within timeout_seconds ({spec.TimeoutSeconds:0.###} s){progress.Note}"));
            stop.Cancel();
            try { await driver.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        finally
        {
            registry.Close(rollout.RolloutId); // the token is refused from here on
            session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.Deadline, "the rollout was cancelled")); // only when nothing ended it: stops in-flight model calls
        }
        return Trajectory(await session.End, session, rollout.Policy.Calls, rowPrompt);
    }

    /// <summary>What the rollout's record says: the recorded calls, the conversation, and the end.</summary>
    static AgentTrajectory Trajectory(RolloutEnd end, RemoteRolloutSession session, IReadOnlyList<ModelCall> calls, JsonArray rowPrompt)
    {
        var messages = session.Conversation(rowPrompt);
        if (end.FailureKind is string kind) return AgentTrajectory.Failed(kind, end.Failure!, calls, messages);
        var (score, reason) = end.Status?.Reported() ?? (null, null);
        int toolCalls = messages.Sum(m => m?["tool_calls"] is JsonArray a ? a.Count : 0);
        return new AgentTrajectory(calls, messages, ToolCalls: toolCalls, ReportedScore: score, ReportedReason: reason);
    }

    /// <summary>/init (with retries), then status polling until an end is reported; every end goes through the session.</summary>
    async Task DriveAsync(RemoteRolloutSession session, JsonObject init, Progress progress, CancellationToken cancellation)
    {
        try { await InitAndPollAsync(session, init, progress, cancellation).ConfigureAwait(false); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.ServerError, $"talking to the agent server at {spec.Url} failed: {e.Message}"));
        }
    }

    async Task InitAndPollAsync(RemoteRolloutSession session, JsonObject init, Progress progress, CancellationToken cancellation)
    {
        if (!await InitAsync(session, init, progress, cancellation)) return;
        progress.Initialised = true;
        bool polling = true;
        while (!session.End.IsCompleted)
        {
            if (polling && await PollAsync(session, progress, cancellation) is bool keepPolling) polling = keepPolling;
            if (session.End.IsCompleted) return;
            var wait = polling ? TimeSpan.FromSeconds(spec.PollIntervalSeconds) : Timeout.InfiniteTimeSpan; // after a 404 only a push ends it
            await Task.WhenAny(session.End, Task.Delay(wait, cancellation)).ConfigureAwait(false);
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>True when the agent took the rollout; false when it refused (the session has ended).</summary>
    async Task<bool> InitAsync(RemoteRolloutSession session, JsonObject body, Progress progress, CancellationToken cancellation)
    {
        var backoff = FirstBackoff;
        for (int attempt = 1; ; attempt++)
        {
            using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            call.CancelAfter(InitCallTimeout);
            try
            {
                using var request = Request(HttpMethod.Post, $"{spec.Url}/init");
                request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"); // with a Content-Length: simple servers take no chunked bodies
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, call.Token).ConfigureAwait(false);
                int code = (int)response.StatusCode;
                if (response.IsSuccessStatusCode) return true;
                var text = await Snippet(response, call.Token).ConfigureAwait(false);
                if (code < 500)
                {
                    session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.InitRefused, $"POST {spec.Url}/init answered {code} {response.ReasonPhrase}: {text}"));
                    return false;
                }
                progress.Problem($"; POST /init answered {code} {response.ReasonPhrase} ({attempt} tries): {text}");
            }
            catch (HttpRequestException e) { progress.Problem($"; POST /init failed ({attempt} tries): {e.Message}"); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { progress.Problem($"; POST /init did not answer within {InitCallTimeout.TotalSeconds:0} s ({attempt} tries)"); }
            await Task.Delay(backoff, cancellation).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>One <c>GET /status</c>: false to stop polling (404), null to go on; a final or garbage answer ends the session.</summary>
    async Task<bool?> PollAsync(RemoteRolloutSession session, Progress progress, CancellationToken cancellation)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        call.CancelAfter(StatusCallTimeout);
        try
        {
            using var request = Request(HttpMethod.Get, $"{spec.Url}/status?rollout_id={Uri.EscapeDataString(session.RolloutId)}");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, call.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                progress.Problem("; GET /status answered 404, so the silo waited for a pushed status");
                return false;
            }
            if (code >= 500)
            {
                progress.Problem($"; GET /status last answered {code} {response.ReasonPhrase}");
                return null;
            }
            if (await ReadCappedAsync(response, call.Token).ConfigureAwait(false) is not string text)
            {
                session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.BadStatus, $"GET {spec.Url}/status answered {code} with a body over {MaxReplyBytes / 1024} KiB; a status is {{terminated, info, status}}, a few hundred bytes"));
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.BadStatus, $"GET {spec.Url}/status answered {code} {response.ReasonPhrase}: {Shorten(text)}"));
                return null;
            }
            RolloutStatus status;
            try { status = RolloutStatus.ParseBody(JsonNode.Parse(text), terminatedRequired: true); }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.BadStatus, $"GET {spec.Url}/status answered what is not Eval Protocol's {{terminated, info, status}}: {(e is JsonException ? "not JSON: " + Shorten(text) : e.Message)}"));
                return null;
            }
            if (status.Terminated) session.TryEnd(RolloutEnd.Of(status, "GET /status"));
            return null;
        }
        catch (HttpRequestException e) { progress.Problem($"; GET /status last failed: {e.Message}"); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { progress.Problem($"; GET /status last did not answer within {StatusCallTimeout.TotalSeconds:0} s"); }
        return null;
    }

    HttpRequestMessage Request(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        foreach (var (name, value) in spec.Headers)
            if (!request.Headers.TryAddWithoutValidation(name, value))
                throw new InvalidOperationException($"agent.headers.{name} is not a request header this client can send.");
        return request;
    }

    static async Task<string> Snippet(HttpResponseMessage response, CancellationToken cancellation)
    {
        try { return await ReadCappedAsync(response, cancellation).ConfigureAwait(false) is string text ? Shorten(text) : $"(a body over {MaxReplyBytes / 1024} KiB)"; }
        catch (Exception e) when (e is HttpRequestException or IOException) { return "(no body)"; }
    }

    /// <summary>The reply's body as text, or null when it is longer than <see cref="MaxReplyBytes"/> (read no further).</summary>
    static async Task<string?> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        if (response.Content.Headers.ContentLength > MaxReplyBytes) return null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
        {
            if (body.Length + n > MaxReplyBytes) return null;
            body.Write(chunk, 0, n);
        }
        return System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    static string Shorten(string text)
    {
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length > 300 ? text[..300] + "…" : text;
    }

    /// <summary>Where the rollout got to, for the reason a deadline records.</summary>
    sealed class Progress
    {
        volatile string note = "";
        public volatile bool Initialised;
        public string Note => note;
        public void Problem(string what) => note = what;
    }
}
