using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Bench;

/// <summary>Runs bench/peer/llama_peer.py (Debian's python3-torch + OpenBLAS) for the same preset and reads its JSON.</summary>
public static class PeerBenchmark
{
    public static JsonObject? Run(string repoRoot, string preset, int threads, int repeats, string batches, out string? problem)
    {
        problem = null;
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python, [Path.Combine(repoRoot, "bench", "peer", "llama_peer.py"), "--preset", preset, "--threads", threads.ToString(), "--repeats", repeats.ToString(), "--batches", batches])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(20)))
        {
            process.Kill(entireProcessTree: true);
            problem = "peer timed out after 20 minutes";
            return null;
        }
        if (process.ExitCode != 0)
        {
            problem = $"peer failed (is python3-torch with libopenblas0-pthread installed? see NOTES.md): {stderr.Result.Trim().Split('\n').LastOrDefault()}";
            return null;
        }
        return JsonNode.Parse(stdout.Result)!.AsObject();
    }
}
