using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Silo;

// The Orleans.Rft silo: appsettings.json + environment variables (Rft__Clustering=azure, …).
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddRedactingConsole(); // every log line has its secrets masked
var options = builder.Configuration.GetSection("Rft").Get<RftSiloOptions>() ?? new RftSiloOptions();
try { options.Validate(); }
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {Orleans.Rft.GrainInterfaces.Secrets.Redact(e.Message)}");
    return 2;
}
builder.UseOrleans(silo => silo.AddRft(options));
var host = builder.Build(); // AddRft logs the configuration at start, secrets masked (SiloConfigurationLog)
await host.StartAsync();
// One line on stdout once the silo is active in the cluster and its gateway takes clients: what
// scripts and the process tests (tests/Orleans.Rft.Cluster.Tests/SiloProcess.cs) wait for.
Console.WriteLine($"{SiloReady.Line} cluster {options.ClusterId}, silo port {options.SiloPort}, gateway port {options.GatewayPort}");
await host.WaitForShutdownAsync();
return 0;
