using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo;

/// <summary>
/// The console log format of the silo and of <c>rft</c>: the default layout (<c>info: Category[id]</c>,
/// then the message), with every message and exception passed through <see cref="Secrets.Redact"/>.
/// Done once here rather than at each log call: Orleans' and the Azure SDK's own messages (a request
/// URI with a SAS signature, a connection string in an exception) are masked as well.
/// </summary>
public sealed class RedactingConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "rft-redacting";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null) return;
        var level = logEntry.LogLevel switch
        {
            LogLevel.Trace => "trce", LogLevel.Debug => "dbug", LogLevel.Information => "info",
            LogLevel.Warning => "warn", LogLevel.Error => "fail", LogLevel.Critical => "crit", _ => "none",
        };
        textWriter.Write($"{level}: {logEntry.Category}[{logEntry.EventId.Id}]{Environment.NewLine}");
        if (!string.IsNullOrEmpty(message)) textWriter.Write($"      {Secrets.Redact(message)}{Environment.NewLine}");
        if (logEntry.Exception is not null) textWriter.Write($"      {Secrets.Redact(logEntry.Exception.ToString())}{Environment.NewLine}");
    }
}

public static class RedactingConsoleLogging
{
    /// <summary>Console logs in <see cref="RedactingConsoleFormatter"/>'s format (secrets masked).</summary>
    public static ILoggingBuilder AddRedactingConsole(this ILoggingBuilder logging, Action<ConsoleLoggerOptions>? configure = null)
    {
        logging.AddConsole(o => { o.FormatterName = RedactingConsoleFormatter.FormatterName; configure?.Invoke(o); });
        logging.AddConsoleFormatter<RedactingConsoleFormatter, ConsoleFormatterOptions>();
        return logging;
    }
}
