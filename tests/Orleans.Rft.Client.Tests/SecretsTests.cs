using System.CommandLine;
using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Client.Tests;

/// <summary>No account key, signature, password or token reaches a log line or the terminal.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SecretsTests
{
    const string Key = "c2VjcmV0LWFjY291bnQta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ+/A==";
    static readonly string ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=rftprod;AccountKey={Key};EndpointSuffix=core.windows.net";

    [Theory]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc+/def==;EndpointSuffix=core.windows.net", "abc+/def==", "AccountName=a")]
    [InlineData("BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=XyZ%2Fsig123", "XyZ%2Fsig123", "BlobEndpoint=https://a.blob.core.windows.net/")]
    [InlineData("https://a.blob.core.windows.net/c/x?sv=2022-11-02&se=2030&sig=AbC%2BdEf%3D&sp=r", "AbC%2BdEf%3D", "sp=r")]
    [InlineData("Server=db;User Id=rft;Password=hunter2;Database=x", "hunter2", "Database=x")]
    [InlineData("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-DEF_123", "eyJhbGciOiJIUzI1NiJ9", "Authorization: Bearer")]
    [InlineData("https://api.example.com/v1?api_key=sk-live-123456&model=x", "sk-live-123456", "model=x")]
    [InlineData("{\"OtlpEndpoint\":\"https://user:p4ssw0rd@collector:4317\"}", "p4ssw0rd", "https://user:")]
    [InlineData("{\"apiKey\": \"sk-abc\\\"def\", \"n\": 1}", "sk-abc", "\"n\": 1")]
    public void Redact_masks_the_secret_and_keeps_the_rest(string text, string secret, string kept)
    {
        var redacted = Secrets.Redact(text);
        Assert.DoesNotContain(secret, redacted);
        Assert.Contains(kept, redacted);
        Assert.Contains(Secrets.Mask, redacted);
    }

    [Theory]
    [InlineData("max_tokens=256; temperature=0.7")]
    [InlineData("UseDevelopmentStorage=true")]
    [InlineData("step 3: reward 0.5, signature of the model unchanged")]
    public void Redact_leaves_text_without_secrets_alone(string text) => Assert.Equal(text, Secrets.Redact(text));

    sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public readonly ConcurrentQueue<string> Lines = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this);
        public void Dispose() { }

        sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }

    [Fact]
    public async Task A_silo_configured_with_an_account_key_logs_its_configuration_without_the_key()
    {
        var logs = new CapturingLoggerProvider();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        // Local clustering, memory state, local artifacts: the connection string is configured but not dialled.
        var options = new RftSiloOptions
        {
            Devices = "cpu", AzureStorageConnectionString = ConnectionString, SiloPort = ClusterConnection.FreePort(), GatewayPort = ClusterConnection.FreePort(),
            ArtifactsPath = Path.Combine(Path.GetTempPath(), "orleans-rft-secrets-test", Guid.NewGuid().ToString("N")[..8]),
            ClusterId = "secrets-" + Guid.NewGuid().ToString("N")[..8],
        };
        builder.UseOrleans(silo => silo.AddRft(options));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var configuration = logs.Lines.Where(l => l.StartsWith("Silo configuration:")).ToList();
        Assert.True(configuration.Count == 1, string.Join("\n", logs.Lines.Take(40)));
        Assert.Contains("AccountName=rftprod", configuration[0]);
        Assert.Contains("AccountKey=" + Secrets.Mask, configuration[0]);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Key) || l.Contains(Key[..20]));
    }

    [Fact]
    public void An_error_that_carries_a_connection_string_is_printed_without_its_key()
    {
        foreach (var error in new Exception[] { new InvalidOperationException($"cannot open '{ConnectionString}'"), new ClusterUnavailableException($"cannot reach the cluster ({ConnectionString})"), new ArgumentException($"bad value {ConnectionString}") })
        {
            var fail = new Command("fail");
            fail.SetAction((Func<ParseResult, int>)(_ => throw error));
            var (exit, output, stderr) = ConsoleCapture.Run(fail, "fail");
            Assert.NotEqual(0, exit);
            Assert.Contains("AccountName=rftprod", stderr);
            Assert.DoesNotContain(Key[..20], stderr + output);
        }
    }

    [Fact]
    public void Every_console_log_line_of_the_silo_and_rft_has_its_secrets_masked_message_and_exception_alike()
    {
        var formatter = new RedactingConsoleFormatter();
        var output = new StringWriter();
        var error = new InvalidOperationException($"request to https://rftprod.blob.core.windows.net/c/x?sv=2022&sig=SASSIGNATURE123 failed; {ConnectionString}");
        var entry = new LogEntry<string>(LogLevel.Error, "Azure.Core", new EventId(7), $"using {ConnectionString}", error, (state, _) => state);
        formatter.Write(entry, null, output);
        var text = output.ToString();
        Assert.StartsWith("fail: Azure.Core[7]", text);
        Assert.Contains("AccountName=rftprod", text);
        Assert.Contains("InvalidOperationException", text);
        Assert.DoesNotContain(Key[..20], text);
        Assert.DoesNotContain("SASSIGNATURE123", text);
    }
}
