using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Orleans.Rft.Client.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Starts Azurite (the Azure Storage emulator, installed from npm by scripts/test.sh into .tools/)
/// on free loopback ports with in-memory persistence, so the Azure Table and Blob paths are tested
/// against a real storage API.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's documented, public development account.
    const string Account = "devstoreaccount1";
    const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    Process? process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var bin = FindAzurite() ?? throw new InvalidOperationException(
            "Azurite is not installed: run scripts/test.sh (it runs `npm install --prefix .tools azurite@3.37.0`), or set AZURITE_BIN.");
        int blob = ClusterConnection.FreePort(), queue = ClusterConnection.FreePort(), table = ClusterConnection.FreePort();
        var start = new ProcessStartInfo(bin, ["--blobHost", "127.0.0.1", "--blobPort", $"{blob}", "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        process = Process.Start(start)!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Listening(blob) || !Listening(table))
        {
            if (process.HasExited) throw new InvalidOperationException($"Azurite exited: {await process.StandardError.ReadToEndAsync()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Azurite did not start listening within 60 s.");
            await Task.Delay(200);
        }
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{Account};QueueEndpoint=http://127.0.0.1:{queue}/{Account};TableEndpoint=http://127.0.0.1:{table}/{Account};";
    }

    static string? FindAzurite()
    {
        if (Environment.GetEnvironmentVariable("AZURITE_BIN") is { Length: > 0 } env && File.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "node_modules", ".bin", "azurite");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    static bool Listening(int port)
    {
        try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); return true; }
        catch (SocketException) { return false; }
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false }) process.Kill(entireProcessTree: true);
        process?.Dispose();
        return Task.CompletedTask;
    }
}
