using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests.Http;

/// <summary>An HTTP server on a free loopback port for one test: <c>handle(request body, attempt number)</c> returns status and body, or hangs.</summary>
sealed class TestServer : IDisposable
{
    HttpListener listener = new();
    readonly CancellationTokenSource stop = new();
    int attempts;

    public string Url { get; }
    public int Attempts => Volatile.Read(ref attempts);
    public List<JsonNode?> Bodies { get; } = new();
    public List<string?> Authorization { get; } = new();

    public TestServer(Func<JsonNode?, int, Task<(int Status, string Body)>> handle)
    {
        // A port found free can be taken by another process before the listener binds it (tests of other
        // worktrees run beside these): try a few.
        for (int attempt = 1; ; attempt++)
        {
            Url = $"http://127.0.0.1:{FreePort()}/";
            listener.Prefixes.Add(Url);
            try { listener.Start(); break; }
            catch (HttpListenerException) when (attempt < 5) { listener.Close(); listener = new(); }
        }
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    var attempt = Interlocked.Increment(ref attempts);
                    using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                    var body = JsonNode.Parse(await reader.ReadToEndAsync());
                    lock (Bodies) { Bodies.Add(body); Authorization.Add(context.Request.Headers["Authorization"]); }
                    try
                    {
                        var (status, text) = await handle(body, attempt).WaitAsync(stop.Token);
                        context.Response.StatusCode = status;
                        var bytes = Encoding.UTF8.GetBytes(text);
                        context.Response.ContentType = "application/json";
                        await context.Response.OutputStream.WriteAsync(bytes);
                        context.Response.Close();
                    }
                    catch (Exception) { try { context.Response.Abort(); } catch (Exception) { } }
                });
            }
        });
    }

    public static Task<(int, string)> Answer(int status, string body) => Task.FromResult((status, body));

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
    }
}
