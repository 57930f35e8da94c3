using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Silo;

// The Orleans.Rft silo: appsettings.json + environment variables (Rft__Clustering=azure, …).
var builder = Host.CreateApplicationBuilder(args);
var options = builder.Configuration.GetSection("Rft").Get<RftSiloOptions>() ?? new RftSiloOptions();
try { options.Validate(); }
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
builder.UseOrleans(silo => silo.AddRft(options));
var host = builder.Build();
host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orleans.Rft.Silo")
    .LogInformation("Silo configuration: {@Options}", System.Text.Json.JsonSerializer.Serialize(options));
await host.StartAsync();
// One line on stdout once the silo is active in the cluster and its gateway takes clients: what
// scripts and the process tests (tests/Orleans.Rft.Cluster.Tests/SiloProcess.cs) wait for.
Console.WriteLine($"{SiloReady.Line} cluster {options.ClusterId}, silo port {options.SiloPort}, gateway port {options.GatewayPort}");
await host.WaitForShutdownAsync();
return 0;
