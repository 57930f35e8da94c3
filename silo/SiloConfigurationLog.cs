using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo;

/// <summary>
/// Logs the resolved silo configuration once at start (what nanochat's scripts do with theirs), with
/// every secret masked by <see cref="Secrets.Redact"/>: the storage connection string carries the
/// account key.
/// </summary>
public sealed class SiloConfigurationLog(RftSiloOptions options, ILogger<SiloConfigurationLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Silo configuration: {Options}", Describe(options));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static string Describe(RftSiloOptions options) => Secrets.Redact(JsonSerializer.Serialize(options));
}
