using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A silo with its HTTP endpoint, hosted the way silo/Program.cs and <c>rft serve</c> host it
/// (WebApplication + UseOrleans + AddRftHttp + MapRftHttp) on free ports of this machine.
/// </summary>
public sealed class HttpHost(WebApplication app, RftSiloOptions options) : IAsyncDisposable
{
    public WebApplication App { get; } = app;
    public RftSiloOptions Options { get; } = options;
    public Uri BaseUrl => new($"http://127.0.0.1:{Options.HttpPort}/");
    public IServiceProvider Services => App.Services;

    /// <summary>The addresses Kestrel bound (loopback only without API keys).</summary>
    public IReadOnlyCollection<string> Addresses => (IReadOnlyCollection<string>)App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();

    public static async Task<HttpHost> StartAsync(RftSiloOptions options, Action<IServiceCollection>? services = null)
    {
        options.HttpPort = ClusterConnection.FreePort();
        options.SiloPort = ClusterConnection.FreePort();
        options.GatewayPort = ClusterConnection.FreePort();
        options.ClusterId = "http-" + Guid.NewGuid().ToString("N")[..8];
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddRedactingConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo.AddRft(options));
        builder.AddRftHttp(options);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapRftHttp();
        await app.StartAsync();
        return new HttpHost(app, options);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
