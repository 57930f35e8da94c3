using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// How the console reaches grains: as an Orleans client of a running cluster (<c>--gateway-port</c> /
/// <c>RFT_GATEWAY_PORT</c> for localhost, <c>--azure-storage</c> / <c>RFT_AZURE_STORAGE</c> for Azure Table
/// membership), or with an in-process silo (<c>rft run</c>).
/// </summary>
public static class ClusterConnection
{
    public static readonly Option<int?> GatewayPort = new("--gateway-port") { Description = "localhost gateway port of the cluster (env RFT_GATEWAY_PORT, default 30000)", Recursive = true };
    public static readonly Option<string?> AzureStorage = new("--azure-storage") { Description = "Azure Storage connection string for Azure Table clustering (env RFT_AZURE_STORAGE)", Recursive = true };
    public static readonly Option<string> ClusterId = new("--cluster-id") { Description = "Orleans cluster id", DefaultValueFactory = _ => "rft", Recursive = true };

    public static readonly Option<string?> Url = new("--url")
    {
        Description = "the cluster's HTTP endpoint, e.g. http://silo:8080 (env RFT_URL): speak HTTP (the jobs API) instead of joining through an Orleans gateway",
    };
    public static readonly Option<string?> ApiKey = new("--api-key") { Description = "bearer API key for --url (env RFT_API_KEY)" };

    /// <summary>Gives a cluster command <c>--url</c> and <c>--api-key</c> (shared instances: each command parses them on its own).</summary>
    public static Command WithHttpOptions(this Command command)
    {
        command.Add(Url);
        command.Add(ApiKey);
        return command;
    }

    /// <summary>
    /// The cluster as the command line names it: over HTTP with <c>--url</c> (or <c>RFT_URL</c> when no gateway
    /// option is given), else as an Orleans client through the gateway (<see cref="ConnectAsync"/>).
    /// </summary>
    public static async Task<IRftCluster> OpenAsync(ParseResult p, CancellationToken cancellation)
    {
        var url = p.GetResult(Url) is not null ? p.GetValue(Url) : null;
        bool gateway = p.GetResult(GatewayPort) is { Implicit: false } || p.GetResult(AzureStorage) is { Implicit: false };
        if (url is not null && gateway)
            throw new ArgumentException("--url speaks HTTP to the cluster, --gateway-port / --azure-storage join it through an Orleans gateway; give one or the other.");
        if (url is null && !gateway) url = Environment.GetEnvironmentVariable("RFT_URL");
        if (!string.IsNullOrWhiteSpace(url))
        {
            var key = (p.GetResult(ApiKey) is not null ? p.GetValue(ApiKey) : null) ?? Environment.GetEnvironmentVariable("RFT_API_KEY");
            return new Http.HttpCluster(new Http.RftHttpClient(Http.RftHttpClient.ParseRoot(url), key));
        }
        return new GrainCluster(await ConnectAsync(p, cancellation));
    }

    public static async Task<IHost> ConnectAsync(ParseResult p, CancellationToken cancellation)
    {
        var builder = Host.CreateApplicationBuilder();
        QuietLogging(builder);
        ClientLogging(builder);
        var azure = p.GetValue(AzureStorage) ?? Environment.GetEnvironmentVariable("RFT_AZURE_STORAGE");
        var port = p.GetValue(GatewayPort) ?? (int.TryParse(Environment.GetEnvironmentVariable("RFT_GATEWAY_PORT"), out var e) ? e : 30000);
        var tls = Silo.Security.ClientTlsEnvironment.Read(); // RFT_TLS_*: TLS to a gateway that requires it (Rft:Tls on the silos)
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(c => { c.ClusterId = p.GetValue(ClusterId)!; c.ServiceId = RftSiloOptions.DefaultServiceId; });
            if (azure is not null) client.UseAzureStorageClustering(o => o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(azure));
            else client.UseLocalhostClustering(port, serviceId: RftSiloOptions.DefaultServiceId, clusterId: p.GetValue(ClusterId)!);
            Silo.Security.OrleansTls.UseRftTls(client, tls);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ClusterUnavailableException(azure is null
                ? $"cannot reach the cluster (localhost gateway {port}): {ex.Message}. Start a silo (dotnet run --project silo) or use `rft run` for the embedded mode."
                : $"cannot reach the cluster (Azure Table membership, cluster id '{p.GetValue(ClusterId)}'): {ex.Message}. Check --azure-storage / RFT_AZURE_STORAGE and that the cluster's silos are running.");
        }
        return host;
    }

    /// <summary>
    /// An in-process silo on free localhost ports with local artifacts: the embedded default. It serves
    /// the OpenAI-compatible endpoint on loopback (no keys): users chat with the policy while it trains,
    /// and a judge without base_url calls it.
    /// </summary>
    public static Task<IHost> StartEmbeddedAsync(string artifacts, string devices, CancellationToken cancellation) =>
        StartServingAsync(EmbeddedOptions(artifacts, devices, null), cancellation);

    /// <summary>The embedded silo's settings; the HTTP endpoint on <paramref name="httpPort"/>, a free port when null.</summary>
    public static RftSiloOptions EmbeddedOptions(string artifacts, string devices, int? httpPort) => new()
    {
        ArtifactsPath = artifacts, AllowLocalPaths = true, Devices = devices, SiloPort = FreePort(), GatewayPort = FreePort(),
        HttpPort = httpPort ?? FreePort(), ClusterId = "rft-embedded-" + Environment.ProcessId,
    };

    /// <summary>
    /// An in-process silo with the OpenAI-compatible endpoint on <c>options.HttpPort</c> (<c>rft serve</c>, the
    /// serving benchmark): the silo host's own wiring (<see cref="Silo.Http.RftHttpExtensions"/>).
    /// </summary>
    public static async Task<IHost> StartServingAsync(RftSiloOptions options, CancellationToken cancellation)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        QuietLogging(builder);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Error);
        // The MCP client logs a protocol probe's fallback as a warning and start failures with stack traces;
        // McpToolbox says what matters (a server's start, death and restart) in one line of its own.
        builder.Logging.AddFilter("ModelContextProtocol", LogLevel.None);
        builder.Logging.AddFilter("Orleans.Rft.Silo.Http.RftHttpExtensions", LogLevel.Error); // its start note ("loopback only") is printed by rft serve itself
        builder.UseOrleans(silo => silo.AddRft(options));
        builder.AddRftHttp(options);
        var app = builder.Build();
        app.MapRftHttp();
        await app.StartAsync(cancellation);
        return app;
    }

    /// <summary>Logs go to stderr (stdout is for results and --json), and Orleans' start-up notes are hidden.</summary>
    static void QuietLogging(IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddRedactingConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Rft", LogLevel.Warning); // over the silo's appsettings.json, which shows Orleans.Rft at Information
    }

    /// <summary>
    /// A client that cannot reach its cluster says so in one line (<see cref="ClusterUnavailableException"/>);
    /// the Orleans, Azure SDK and hosting logs of the same failure (hundreds of lines of stack traces)
    /// are shown only with RFT_DEBUG=1.
    /// </summary>
    static void ClientLogging(HostApplicationBuilder builder)
    {
        if (Environment.GetEnvironmentVariable("RFT_DEBUG") == "1") return;
        foreach (var category in new[] { "Orleans", "Azure", "Microsoft" }) builder.Logging.AddFilter(category, LogLevel.None);
    }

    public static IGrainFactory Grains(IHost host) => host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A localhost TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The cluster could not be reached: a failure of the environment, exit code 1.</summary>
public sealed class ClusterUnavailableException(string message) : Exception(message);
