using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Http;

/// <summary>
/// The console's HTTP connection to a silo's endpoint (<c>--url</c>, <c>--api-key</c>): one
/// <see cref="HttpClient"/>, the Bearer key, a deadline per call, and the server's errors turned into the
/// console's: a refusal (400, 401, 404, 409, 413) an <see cref="ArgumentException"/> with the server's own
/// message (exit 2), an unreachable or failing cluster a <see cref="ClusterUnavailableException"/> (exit 1).
/// </summary>
public sealed class RftHttpClient : IDisposable
{
    readonly HttpClient http;

    public RftHttpClient(Uri root, string? apiKey, HttpMessageHandler? handler = null)
    {
        Root = root;
        // Each call has its own deadline (a linked token); the client-wide timeout would also cut event streams.
        http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }) { BaseAddress = root, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(apiKey)) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <summary>The endpoint's root (<c>http://host:8080/</c>); routes are relative to it (<c>v1/rft/jobs</c>).</summary>
    public Uri Root { get; }

    /// <summary>
    /// <c>http://host:8080</c>, with or without a trailing <c>/v1</c> (the form <c>rft chat</c> and OpenAI clients take),
    /// as the root the routes are relative to.
    /// </summary>
    public static Uri ParseRoot(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query))
            throw new ArgumentException($"--url '{value}' is not an http(s) URL; give the silo's HTTP endpoint, such as http://127.0.0.1:8080.");
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/v1", StringComparison.Ordinal)) path = path[..^3];
        return new UriBuilder(uri) { Path = path + "/" }.Uri;
    }

    /// <summary>Sends and reads a JSON answer; <paramref name="body"/> is JSON (null: none).</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, JsonNode? body, TimeSpan timeout, CancellationToken cancellation, Action<HttpRequestMessage>? configure = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            configure?.Invoke(request);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
            var text = await response.Content.ReadAsStringAsync(deadline.Token);
            if (!response.IsSuccessStatusCode) throw Error(response.StatusCode, text, method, path);
            try { return RftJson.Deserialize<T>(text); }
            catch (JsonException e) { throw new ClusterUnavailableException($"{method} {Root}{path} answered something that is not the jobs API's JSON ({e.Message}); is --url the silo's HTTP endpoint?"); }
        }
        catch (Exception e) when (Unreachable(e, method, path, timeout, cancellation) is { } unreachable) { throw unreachable; }
    }

    /// <summary>Sends and returns the response with its headers read, the body left to stream (the caller disposes it); errors as in <see cref="SendAsync{T}"/>.</summary>
    public async Task<HttpResponseMessage> OpenAsync(HttpRequestMessage request, TimeSpan headersTimeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(headersTimeout);
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token); }
        catch (Exception e) when (Unreachable(e, request.Method, request.RequestUri!.OriginalString, headersTimeout, cancellation) is { } unreachable) { throw unreachable; }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellation);
            throw Error(response.StatusCode, text, request.Method, request.RequestUri!.OriginalString);
        }
    }

    /// <summary>The server's refusal, with the server's message (and its error code, for callers that tell them apart).</summary>
    public Exception Error(HttpStatusCode status, string text, HttpMethod method, string path)
    {
        string? message = null, code = null;
        try
        {
            if (JsonNode.Parse(text)?["error"] is JsonObject error)
            {
                message = error["message"] is JsonValue m && m.TryGetValue<string>(out var ms) ? ms : null;
                code = error["code"] is JsonValue c && c.TryGetValue<string>(out var cs) ? cs : null;
            }
        }
        catch (JsonException) { }
        // A request sent has an absolute URI; one built here is relative to the root.
        var url = Uri.TryCreate(path, UriKind.Absolute, out var absolute) ? absolute.ToString() : $"{Root}{path.TrimStart('/')}";
        if (message is null)
        {
            // No error of the jobs API's shape: a proxy, a load balancer or another server answered (an HTML page, say), so say where and what, not its body.
            var answer = $"{method} {url} answered {(int)status} {status} without the jobs API's JSON error";
            return status == HttpStatusCode.Unauthorized
                ? new RftHttpRefusal(status, null, $"{answer}: the key was refused (give it with --api-key or RFT_API_KEY), or --url is not the silo's HTTP endpoint.")
                : (int)status is >= 400 and < 500 and not (408 or 429) // a timeout or a rate limit passes: trying again is the fix
                    ? new RftHttpRefusal(status, null, $"{answer}; is --url / RFT_URL the silo's HTTP endpoint (such as http://silo:8080)?")
                    : new ClusterUnavailableException($"{answer}; a proxy in front of the silo, or the silo itself, is failing: try again, or check the silo's log.");
        }
        return status switch
        {
            HttpStatusCode.Unauthorized => new RftHttpRefusal(status, code, $"the cluster at {Root} refused the API key: {message} Give the key with --api-key or RFT_API_KEY."),
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.MethodNotAllowed
                => new RftHttpRefusal(status, code, message),
            _ => new ClusterUnavailableException($"{method} {url} failed ({(int)status}): {message}"),
        };
    }

    Exception? Unreachable(Exception e, HttpMethod method, string path, TimeSpan timeout, CancellationToken cancellation) => e switch
    {
        OperationCanceledException when cancellation.IsCancellationRequested => null,
        OperationCanceledException => new ClusterUnavailableException($"the cluster at {Root} did not answer {method} /{path.TrimStart('/')} within {timeout.TotalSeconds:F0} s."),
        HttpRequestException h => new ClusterUnavailableException($"cannot reach the cluster at {Root}: {h.Message}. Check --url / RFT_URL and that a silo's HTTP endpoint (Rft:HttpPort) listens there."),
        _ => null,
    };

    public void Dispose() => http.Dispose();
}

/// <summary>A request the server refused (4xx): the user's to fix, so an <see cref="ArgumentException"/> (exit 2) with the server's message.</summary>
public sealed class RftHttpRefusal(HttpStatusCode status, string? code, string message) : ArgumentException(message)
{
    public HttpStatusCode Status { get; } = status;
    /// <summary>The server's error code (<c>job_not_found</c>, <c>upload_offset</c>…).</summary>
    public string? Code { get; } = code;
}
