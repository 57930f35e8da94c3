using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// OpenAI's streaming framing: <c>text/event-stream</c>, one <c>data: {json}</c> event per chunk, each
/// flushed at once (a token must reach the client when it is sampled), and <c>data: [DONE]</c> last.
/// </summary>
public sealed class ServerSentEvents(HttpResponse response)
{
    public static ServerSentEvents Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies (nginx) must not hold events back
        return new ServerSentEvents(response);
    }

    public Task SendAsync(JsonNode chunk, CancellationToken cancellation) => WriteAsync(chunk.ToJsonString(), cancellation);

    /// <summary>A named event (<c>event: {name}</c>), as the jobs API's <c>/events</c> stream sends them.</summary>
    public Task SendAsync(string name, JsonNode data, CancellationToken cancellation) =>
        WriteRawAsync($"event: {name}\ndata: {data.ToJsonString(GrainInterfaces.RftJson.Options)}\n\n", cancellation);

    /// <summary>A comment line (a heartbeat, a note): clients skip it, proxies see the connection is alive.</summary>
    public Task CommentAsync(string text, CancellationToken cancellation) => WriteRawAsync($": {text}\n\n", cancellation);

    public Task DoneAsync(CancellationToken cancellation) => WriteAsync("[DONE]", cancellation);

    /// <summary>The normal end: the usage chunk when the client asked for one (<c>stream_options.include_usage</c>), then <c>[DONE]</c>.</summary>
    public async Task EndAsync(JsonObject? usage, CancellationToken cancellation)
    {
        if (usage is not null) await SendAsync(usage, cancellation);
        await DoneAsync(cancellation);
    }

    /// <summary>
    /// A failure after the headers were sent: the status can no longer change, so the error travels as
    /// an event in OpenAI's error shape (its message with secrets masked), then the stream ends.
    /// </summary>
    public async Task FailAsync(Exception e, CancellationToken cancellation)
    {
        var error = e as OpenAIError ?? new OpenAIError(500, $"{e.GetType().Name}: {GrainInterfaces.Secrets.Redact(e.Message)}", null, "server_error");
        await SendAsync(error.ToJson(), cancellation);
        await DoneAsync(cancellation);
    }

    Task WriteAsync(string data, CancellationToken cancellation) => WriteRawAsync("data: " + data + "\n\n", cancellation);

    async Task WriteRawAsync(string text, CancellationToken cancellation)
    {
        await response.WriteAsync(text, cancellation);
        await response.Body.FlushAsync(cancellation);
    }
}
