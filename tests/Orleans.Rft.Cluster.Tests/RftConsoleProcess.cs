using System.Diagnostics;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The real <c>rft</c> console (rft.dll beside the tests) run as its own process: exit code, stdout, stderr.</summary>
public static class RftConsoleProcess
{
    public static async Task<(int Exit, string Out, string Error)> Run(IReadOnlyDictionary<string, string>? env, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rft.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in new[] { "RFT_URL", "RFT_API_KEY", "RFT_GATEWAY_PORT", "RFT_AZURE_STORAGE" }) info.Environment.Remove(name);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try { await process.WaitForExitAsync(deadline.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rft {string.Join(' ', args)} did not end within 4 minutes; stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
