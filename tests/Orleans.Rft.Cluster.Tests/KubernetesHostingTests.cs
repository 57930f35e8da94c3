using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting.Kubernetes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Silo;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The silo's Kubernetes hosting (Rft:Kubernetes, Azure Table membership on Azurite) against a fake Kubernetes
/// API on loopback: what Microsoft.Orleans.Hosting.Kubernetes does through our wiring, without a cluster.
/// </summary>
public sealed class KubernetesHostingTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Silos_are_named_after_their_pods_label_them_and_a_silo_whose_pod_is_gone_is_declared_dead_and_its_pod_deleted()
    {
        await using var api = await FakeKubernetesApi.StartAsync("rft-test");
        var clusterId = "k8s-" + Guid.NewGuid().ToString("N")[..8];
        api.AddPod("pod-a");
        api.AddPod("pod-b");
        using var a = await StartSilo("pod-a", clusterId, api);
        using var b = await StartSilo("pod-b", clusterId, api);

        // Each silo labelled its own pod with the cluster it belongs to, and took the pod's name.
        foreach (var pod in new[] { "pod-a", "pod-b" })
        {
            Assert.Equal(clusterId, (string?)api.Labels(pod)?[KubernetesHostingOptions.ClusterIdLabel]);
            Assert.Equal(RftSiloOptions.DefaultServiceId, (string?)api.Labels(pod)?[KubernetesHostingOptions.ServiceIdLabel]);
        }
        var membership = a.Services.GetRequiredService<IClusterMembershipService>();
        Assert.Equal(["pod-a", "pod-b"], membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order());

        // pod-b is deleted while its process hangs on: the silos watching the pods, and a silo starting now (which
        // finds an active silo without a pod), declare it dead instead of waiting for it to miss its probes.
        api.AddPod("pod-c");
        api.DeletePod("pod-b");
        using var c = await StartSilo("pod-c", clusterId, api);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (membership.CurrentSnapshot.Members.Values.SingleOrDefault(m => m.Name == "pod-b")?.Status != SiloStatus.Dead && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        Assert.Equal(SiloStatus.Dead, membership.CurrentSnapshot.Members.Values.Single(m => m.Name == "pod-b").Status);
        // Rft wiring turns on DeleteDefunctSiloPods (off in the package): a monitoring silo deletes the dead silo's pod.
        var deletePodB = $"DELETE /api/v1/namespaces/{api.Namespace}/pods/pod-b";
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (!api.Calls.Any(c => c.Call == deletePodB) && DateTime.UtcNow < deadline) await Task.Delay(250);
        foreach (var (call, _) in api.Calls) output.WriteLine(call);
        Assert.Contains(api.Calls, c => c.Call == deletePodB);
        Assert.DoesNotContain(api.Calls, c => c.Call.StartsWith("DELETE", StringComparison.Ordinal) && c.Call != deletePodB);
        await c.StopAsync();
        await a.StopAsync();
        try { await b.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token); } catch (Exception e) { output.WriteLine($"pod-b's silo (declared dead) stopped with {e.GetType().Name}"); }
    }

    /// <summary>
    /// A silo in a "pod": the package reads POD_NAME and POD_NAMESPACE from the process environment when the silo
    /// starts, so the variables are set around each start (tests in this assembly run one at a time).
    /// </summary>
    async Task<IHost> StartSilo(string pod, string clusterId, FakeKubernetesApi api)
    {
        var options = new RftSiloOptions
        {
            Clustering = "azure", AzureStorageConnectionString = azurite.ConnectionString, Kubernetes = true, ClusterId = clusterId,
            Devices = "cpu", HttpPort = 0, SiloPort = ClusterConnection.FreePort(), GatewayPort = ClusterConnection.FreePort(),
            ArtifactsPath = Path.Combine(Path.GetTempPath(), "orleans-rft-k8s-tests", clusterId),
        };
        var variables = new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "127.0.0.1", ["POD_NAME"] = pod, ["POD_NAMESPACE"] = api.Namespace, ["POD_IP"] = "127.0.0.1" };
        var before = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(new OutputLoggerProvider(output, pod)); // the hosting package's own account of what it did
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Orleans.Hosting.Kubernetes", LogLevel.Information);
            builder.UseOrleans(silo =>
            {
                silo.AddRft(options);
                // The one thing a pod has that this process lacks: the API server's address and credentials.
                silo.Services.Configure<KubernetesHostingOptions>(k => k.GetClientConfiguration = () => new KubernetesClientConfiguration { Host = api.Url.ToString() });
                // A silo told it is dead ends its process (Environment.FailFast): here that process is the test host.
                silo.Services.AddSingleton<IFatalErrorHandler>(new LoggedFatalError(output, pod));
            });
            var host = builder.Build();
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(90));
            return host;
        }
        finally
        {
            foreach (var (name, value) in before) Environment.SetEnvironmentVariable(name, value);
        }
    }
}

/// <summary>Log lines into the test's output, prefixed with the silo's pod.</summary>
sealed class OutputLoggerProvider(ITestOutputHelper output, string prefix) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, $"{prefix} {categoryName}");
    public void Dispose() { }

    sealed class Logger(ITestOutputHelper output, string name) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try { output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {name}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}"); }
            catch (InvalidOperationException) { } // the test has ended: nowhere to write
        }
    }
}

/// <summary>Orleans' fatal errors (a silo declared dead) written to the test output instead of failing the whole test process fast.</summary>
sealed class LoggedFatalError(ITestOutputHelper output, string pod) : IFatalErrorHandler
{
    public bool IsUnexpected(Exception exception) => true;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        try { output.WriteLine($"{pod}: fatal error in {context}: {exception?.Message} (the silo stops here; the test process goes on)"); }
        catch (InvalidOperationException) { } // the test has ended
    }
}
