using System.Net;
using System.Text;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;
using Orleans.TestingHost;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The silo exports step metrics and traces over OTLP (http/protobuf) to a collector it is pointed at.</summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task A_silo_pointed_at_a_collector_sends_it_the_step_metrics_and_the_step_traces()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        using var collector = new FakeCollector();
        var options = toy.LocalOptions();
        (options.OtlpEndpoint, options.OtlpProtocol, options.MetricsExportIntervalSeconds) = (collector.Url, "http", 1);
        var cluster = ClusterFixture.BuildCluster(1, options);
        await cluster.DeployAsync();
        try
        {
            var s = await ClusterFixture.RunToEnd(cluster.Client, "otel", toy.Spec("otel", trainers: 1, maxSteps: 2));
            Assert.True(s.Status == JobStatus.Completed, s.LastError);
            // OTLP protobuf carries instrument and span names as UTF-8 strings.
            await collector.WaitFor("/v1/metrics", "rft.steps", TimeSpan.FromSeconds(20));
            await collector.WaitFor("/v1/traces", "rft.step", TimeSpan.FromSeconds(20));
        }
        finally { await cluster.DisposeAsync(); }
    }

    /// <summary>Accepts OTLP/HTTP posts and keeps their bodies by path.</summary>
    sealed class FakeCollector : IDisposable
    {
        readonly HttpListener listener = new();
        readonly List<(string Path, byte[] Body)> posts = [];
        public string Url { get; }

        public FakeCollector()
        {
            Url = $"http://127.0.0.1:{ClusterConnection.FreePort()}/";
            listener.Prefixes.Add(Url);
            listener.Start();
            _ = Task.Run(Serve);
        }

        async Task Serve()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); } catch { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (posts) posts.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }

        public async Task WaitFor(string path, string text, TimeSpan timeout)
        {
            var needle = Encoding.UTF8.GetBytes(text);
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                lock (posts)
                    if (posts.Any(p => p.Path == path && p.Body.AsSpan().IndexOf(needle) >= 0)) return;
                await Task.Delay(200);
            }
            lock (posts) Assert.Fail($"no {path} post containing '{text}' within {timeout.TotalSeconds:F0} s; got {string.Join(", ", posts.Select(p => $"{p.Path} ({p.Body.Length} B)"))}");
        }

        public void Dispose() => listener.Close();
    }
}
