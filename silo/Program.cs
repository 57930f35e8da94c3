using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

// The Orleans.Rft silo: appsettings.json + environment variables (Rft__Clustering=azure, …), with the
// OpenAI-compatible endpoint on Rft:HttpPort (0 = a silo without HTTP).
var web = WebApplication.CreateBuilder(args);
var options = web.Configuration.GetSection("Rft").Get<RftSiloOptions>() ?? new RftSiloOptions();
try { options.Validate(); }
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {Orleans.Rft.GrainInterfaces.Secrets.Redact(e.Message)}");
    return 2;
}
IHostApplicationBuilder builder = options.HttpPort == 0 ? Host.CreateApplicationBuilder(args) : web;
builder.Logging.ClearProviders();
builder.Logging.AddRedactingConsole(); // every log line has its secrets masked
builder.UseOrleans(silo => silo.AddRft(options));
IHost host;
if (builder is WebApplicationBuilder withHttp)
{
    var app = withHttp.AddRftHttp(options).Build();
    app.MapRftHttp();
    host = app;
}
else host = ((HostApplicationBuilder)builder).Build(); // AddRft logs the configuration at start, secrets masked (SiloConfigurationLog)
await host.StartAsync();
// One line on stdout once the silo is active in the cluster and its gateway takes clients: what
// scripts and the process tests (tests/Orleans.Rft.Cluster.Tests/SiloProcess.cs) wait for.
Console.WriteLine($"{SiloReady.Line} cluster {options.ClusterId}, silo port {options.SiloPort}, gateway port {options.GatewayPort}{(options.HttpPort == 0 ? "" : $", http port {options.HttpPort}")}");
await host.WaitForShutdownAsync();
return 0;
