using Microsoft.Extensions.Logging;

namespace Orleans.Rft.Silo.Http;

/// <summary>The HTTP endpoint's structured log lines (never a key, never a prompt).</summary>
static partial class HttpLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} failed")]
    public static partial void LogRequestFailure(this ILogger logger, string path, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API keys configured (Rft:ApiKeys, Rft:ApiKeysFile): the OpenAI-compatible endpoint listens on loopback only, port {Port}.")]
    public static partial void LogLoopbackOnly(this ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenAI-compatible endpoint on port {Port} (all interfaces), {Keys} API key(s); models: {Models}.")]
    public static partial void LogListening(this ILogger logger, int port, int keys, string models);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployed models could not be listed ({Reason}); serving the last known list of {Count}.")]
    public static partial void LogDeploymentsUnavailable(this ILogger logger, string reason, int count);
}
