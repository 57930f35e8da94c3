using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// A small OpenAI-compatible chat server over <see cref="HttpListener"/>: streams
/// <c>"echo N: LAST"</c> (N = messages received, LAST = the last user message) word by word as
/// server-sent events, records each request, and answers model <c>missing</c> with OpenAI's 404 error shape.
/// </summary>
public sealed class FakeChatServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly Task loop;

    public List<(JsonObject Body, string? Authorization)> Requests { get; } = [];
    /// <summary>When set, the server waits for it after the first chunk of each answer (up to 10 s) and records whether it came.</summary>
    public Func<Task>? AfterFirstChunk { get; set; }
    public List<bool> FirstChunkSeenBeforeTheRest { get; } = [];
    public string BaseUrl { get; }

    public FakeChatServer()
    {
        var port = Jobs.ClusterConnection.FreePort();
        BaseUrl = $"http://127.0.0.1:{port}/v1";
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        loop = Task.Run(Serve);
    }

    public static string Answer(JsonObject body)
    {
        var messages = body["messages"]!.AsArray();
        var last = messages.Last(m => (string?)m!["role"] == "user")!["content"]!.GetValue<string>();
        return $"echo {messages.Count}: {last}";
    }

    async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { await Handle(context); }
            catch (Exception e) when (e is HttpListenerException or IOException) { }
        }
    }

    async Task Handle(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream);
        var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
        lock (Requests) Requests.Add((body, context.Request.Headers["Authorization"]));
        var response = context.Response;
        if ((string?)body["model"] == "missing")
        {
            response.StatusCode = 404;
            response.ContentType = "application/json";
            var error = """{"error":{"message":"The model `missing` does not exist.","type":"invalid_request_error","param":"model","code":"model_not_found"}}""";
            var bytes = Encoding.UTF8.GetBytes(error);
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
            return;
        }
        response.ContentType = "text/event-stream";
        response.SendChunked = true;
        var words = Answer(body).Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            var delta = new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] };
            await Send(response, Chunk(delta, null));
            if (i == 0 && AfterFirstChunk is { } wait)
                lock (FirstChunkSeenBeforeTheRest) FirstChunkSeenBeforeTheRest.Add(wait().Wait(TimeSpan.FromSeconds(10)));
        }
        await Send(response, Chunk(new JsonObject(), "stop"));
        await Send(response, new JsonObject { ["id"] = "c", ["object"] = "chat.completion.chunk", ["choices"] = new JsonArray(), ["usage"] = new JsonObject { ["prompt_tokens"] = 5, ["completion_tokens"] = words.Length } }.ToJsonString());
        await Send(response, "[DONE]");
        response.Close();
    }

    static string Chunk(JsonObject delta, string? finish) => new JsonObject
    {
        ["id"] = "c",
        ["object"] = "chat.completion.chunk",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    }.ToJsonString();

    static async Task Send(HttpListenerResponse response, string data)
    {
        var bytes = Encoding.UTF8.GetBytes($"data: {data}\n\n");
        await response.OutputStream.WriteAsync(bytes);
        await response.OutputStream.FlushAsync();
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(5));
    }
}
