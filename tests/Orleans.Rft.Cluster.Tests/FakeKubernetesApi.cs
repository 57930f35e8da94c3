using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The slice of the Kubernetes API that Microsoft.Orleans.Hosting.Kubernetes calls, on loopback: read, patch,
/// list, watch and delete pods of one namespace. Pods are what the test says exist; every call is recorded.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ConcurrentDictionary<string, JsonObject> pods = new();
    readonly ConcurrentDictionary<Guid, Channel<string>> watchers = new();

    public string Namespace { get; }
    public Uri Url { get; }
    /// <summary>"METHOD path" and, for a patch, its body: in the order they came.</summary>
    public ConcurrentQueue<(string Call, string Body)> Calls { get; } = new();

    FakeKubernetesApi(WebApplication app, string ns, Uri url) { this.app = app; Namespace = ns; Url = url; }

    public static async Task<FakeKubernetesApi> StartAsync(string ns)
    {
        var port = Orleans.Rft.Client.Jobs.ClusterConnection.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var api = new FakeKubernetesApi(app, ns, new Uri($"http://127.0.0.1:{port}"));
        api.Map();
        await app.StartAsync();
        return api;
    }

    public void AddPod(string name) => pods[name] = Pod(name, new JsonObject());
    /// <summary>The pod is deleted: gone from reads and lists, and every open watch gets a DELETED event, as from a real API server.</summary>
    public void DeletePod(string name)
    {
        if (!pods.TryRemove(name, out var pod)) return;
        var line = new JsonObject { ["type"] = "DELETED", ["object"] = pod }.ToJsonString();
        foreach (var watcher in watchers.Values) watcher.Writer.TryWrite(line);
    }

    public int OpenWatches => watchers.Count;
    public JsonObject? Labels(string pod) => pods.TryGetValue(pod, out var p) ? p["metadata"]!["labels"]!.AsObject() : null;

    void Map()
    {
        var prefix = $"/api/v1/namespaces/{Namespace}/pods";
        app.MapGet(prefix + "/{name}", (string name) => Record($"GET {prefix}/{name}", "", () =>
            pods.TryGetValue(name, out var pod) ? Results.Text(pod.ToJsonString(), "application/json") : NotFound(name)));
        app.MapMethods(prefix + "/{name}", ["PATCH"], async (string name, HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            return Record($"PATCH {prefix}/{name}", body, () =>
            {
                if (!pods.TryGetValue(name, out var pod)) return NotFound(name);
                var labels = JsonNode.Parse(body)?["metadata"]?["labels"]?.AsObject();
                foreach (var (key, value) in labels ?? []) pod["metadata"]!["labels"]![key] = value?.DeepClone();
                return Results.Text(pod.ToJsonString(), "application/json");
            });
        });
        app.MapDelete(prefix + "/{name}", (string name) => Record($"DELETE {prefix}/{name}", "", () =>
            pods.TryRemove(name, out var pod) ? Results.Text(pod.ToJsonString(), "application/json") : NotFound(name)));
        app.MapGet(prefix, async (HttpContext http) =>
        {
            var watch = http.Request.Query["watch"] == "true";
            Calls.Enqueue(($"{(watch ? "WATCH" : "LIST")} {prefix}{http.Request.QueryString}", ""));
            if (!watch)
            {
                var list = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "PodList", ["metadata"] = new JsonObject(), ["items"] = new JsonArray(pods.Values.Select(p => (JsonNode)p.DeepClone()).ToArray()) };
                await http.Response.WriteAsJsonAsync(list);
                return;
            }
            // A watch: one JSON event per line, held open until the client goes.
            http.Response.ContentType = "application/json";
            await http.Response.Body.FlushAsync(http.RequestAborted);
            var id = Guid.NewGuid();
            var events = Channel.CreateUnbounded<string>();
            watchers[id] = events;
            try
            {
                await foreach (var line in events.Reader.ReadAllAsync(http.RequestAborted))
                {
                    await http.Response.WriteAsync(line + "\n", http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                }
            }
            catch (OperationCanceledException) { }
            finally { watchers.TryRemove(id, out _); }
        });
    }

    IResult Record(string call, string body, Func<IResult> answer)
    {
        Calls.Enqueue((call, body));
        return answer();
    }

    JsonObject Pod(string name, JsonObject labels) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = Namespace, ["labels"] = labels },
    };

    static IResult NotFound(string name) => Results.Json(new { kind = "Status", apiVersion = "v1", status = "Failure", reason = "NotFound", code = 404, message = $"pods \"{name}\" not found" }, statusCode: 404);

    public async ValueTask DisposeAsync()
    {
        foreach (var watcher in watchers.Values) watcher.Writer.TryComplete();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
