using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// One Orleans cluster of real <see cref="SiloProcess"/>es on Azurite, configured as production is:
/// Azure Table membership, grain state and reminders, Blob artifacts (a container per cluster). Its
/// own cluster and service id, so clusters in one Azurite never see each other. Every silo it starts
/// uses the same silo port: a silo restarted after a kill -9 is a new incarnation of the same
/// endpoint, which Orleans declares the dead one's successor at once instead of waiting for probes
/// to time out. Silos share <see cref="Temp"/> (TMPDIR, where the blob cache lives), as a silo
/// restarted on the same machine would.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    readonly string connectionString;
    readonly List<SiloProcess> silos = new();
    readonly List<IHost> clients = new();
    readonly int siloPort = ClusterConnection.FreePort();

    public string Id { get; }
    public string Root { get; }
    public string Temp => Path.Combine(Root, "tmp");

    public ProcessCluster(string connectionString, string name, string root)
    {
        this.connectionString = connectionString;
        Id = $"rft-{name}-{Guid.NewGuid():N}"[..24].TrimEnd('-');
        Root = Path.Combine(root, Id);
        Directory.CreateDirectory(Temp);
    }

    /// <summary>The cluster's artifact store, read from the test.</summary>
    public BlobArtifactStore Artifacts() => new(connectionString, Id, Path.Combine(Root, "test-cache"));

    /// <summary>When the blob at <paramref name="path"/> was last written (Azure keeps it to the second).</summary>
    public async Task<DateTimeOffset> LastModifiedAsync(string path) =>
        (await new BlobContainerClient(connectionString, Id).GetBlobClient(path).GetPropertiesAsync()).Value.LastModified;

    /// <summary>Starts one more silo (CPU device) on a fresh gateway port; <paramref name="extra"/> adds environment variables (a fault point).</summary>
    public async Task<SiloProcess> StartSiloAsync(string name, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Rft__Clustering"] = "azure", ["Rft__Storage"] = "azure", ["Rft__Artifacts"] = "blob",
            ["Rft__AzureStorageConnectionString"] = connectionString, ["Rft__ArtifactsContainer"] = Id,
            ["Rft__ClusterId"] = Id, ["Rft__ServiceId"] = Id,
            ["Rft__SiloPort"] = $"{siloPort}", ["Rft__GatewayPort"] = $"{ClusterConnection.FreePort()}",
            ["Rft__Devices"] = "cpu", ["Rft__HttpPort"] = $"{ClusterConnection.FreePort()}",
            // The job spec names the toy model and data by local path (issue 7 item 18 puts that behind this switch).
            ["Rft__AllowLocalPaths"] = "true",
            // The job's progress (submitted, resumes at step…, completed) in the silo's log, for failure messages.
            ["Logging__LogLevel__Orleans.Rft"] = "Information",
            ["TMPDIR"] = Temp,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) environment[key] = value;
        var silo = await SiloProcess.StartAsync($"{Id}-{name}", environment, Path.Combine(Root, "logs"), ReadyTimeout);
        silos.Add(silo);
        return silo;
    }

    /// <summary>An Orleans client that finds the cluster's gateways in the Azure membership table.</summary>
    public async Task<IGrainFactory> ConnectAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(c => { c.ClusterId = Id; c.ServiceId = Id; });
            client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(connectionString));
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        clients.Add(host);
        return host.Services.GetRequiredService<IGrainFactory>();
    }

    /// <summary>Every silo's output, for a failure message.</summary>
    public string Logs() => string.Join("\n", silos.Select(s => s.Log()));

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var client in clients)
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await client.StopAsync(stop.Token); } catch (Exception) { } // its gateway may be dead already
                client.Dispose();
            }
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }
}
