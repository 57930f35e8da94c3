using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// infra/local/cluster.sh as a user runs it: up, add, kill, stop (drain), status and down against real
/// processes (Azurite and silos), and its refusals of bad input with exit code 2 and one line.
/// </summary>
public sealed class LocalClusterScriptTests
{
    static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Up_add_kill_stop_status_and_down_drive_real_silo_processes_that_serve_http()
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-cluster-sh", Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var up = await Run(dir, "up", "2");
            Assert.True(up.Code == 0, up.Output);
            var http = Regex.Matches(up.Output, @"silo (\d+): pid \d+, silo port \d+, gateway port \d+, http (http://127\.0\.0\.1:\d+)").Select(m => m.Groups[2].Value).ToList();
            Assert.Equal(2, http.Count);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            foreach (var url in http) Assert.Contains("\"ready\"", await client.GetStringAsync($"{url}/readyz"));

            var again = await Run(dir, "up", "1");
            Assert.Equal(2, again.Code);
            Assert.Contains("a cluster is up already", again.Output);

            Assert.Equal(0, (await Run(dir, "kill", "2")).Code);
            var added = await Run(dir, "add");
            Assert.True(added.Code == 0, added.Output);
            Assert.Contains("silo 3: pid", added.Output);
            var status = await Run(dir, "status");
            Assert.Contains("azurite: up", status.Output);
            Assert.Matches(@"silo 1: up, pid \d+", status.Output);
            Assert.Matches(@"silo 2: dead, pid \d+", status.Output);
            Assert.Matches(@"silo 3: up, pid \d+", status.Output);

            Assert.Equal(0, (await Run(dir, "stop", "3")).Code);
            Assert.Contains("drained in", await File.ReadAllTextAsync(Path.Combine(dir, "silo-3.log"))); // SIGTERM: the silo drained, and said so
            Assert.Matches(@"silo 3: dead", (await Run(dir, "status")).Output);

            Assert.Equal(0, (await Run(dir, "down")).Code);
            var down = (await Run(dir, "status")).Output;
            Assert.Contains("azurite: down", down);
            Assert.DoesNotContain(": up", down); // down forgets the silos' pids once they are gone
        }
        finally
        {
            await Run(dir, "down"); // never leave processes behind
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Theory]
    [InlineData("up 0", "up needs the number of silos")]
    [InlineData("kill x", "silo ID must be a number")]
    [InlineData("stop 7", "no silo 7")]
    [InlineData("add", "no cluster is up")]
    [InlineData("frobnicate", "usage: cluster.sh up N")]
    public async Task Bad_input_exits_2_with_one_line_naming_the_problem(string args, string message)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-cluster-sh", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var r = await Run(dir, args.Split(' '));
            Assert.Equal(2, r.Code);
            Assert.Contains(message, r.Output);
            Assert.Single(r.Output.Trim().Split('\n'));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task Kill_stop_and_down_never_signal_a_process_that_reused_a_dead_silos_pid()
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-cluster-sh", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        // Silo 3 died long ago and the system gave its pid to an unrelated process (here: sleep).
        using var stranger = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "silo-3.pid"), $"{stranger.Id}\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "azurite.pid"), $"{stranger.Id}\n");
            foreach (var args in new[] { "kill 3", "stop 3", "status", "down" })
            {
                var r = await Run(dir, args.Split(' '));
                Assert.True(r.Code == 0, $"cluster.sh {args}: exit {r.Code}: {r.Output}");
                Assert.False(stranger.HasExited, $"cluster.sh {args} signalled pid {stranger.Id}, which is not a silo: {r.Output}");
                if (args.StartsWith("kill") || args.StartsWith("stop")) Assert.Contains("silo 3 is not running", r.Output);
                if (args == "status") Assert.Contains("silo 3: dead", r.Output);
            }
        }
        finally
        {
            if (!stranger.HasExited) stranger.Kill();
            Directory.Delete(dir, recursive: true);
        }
    }

    static async Task<(int Code, string Output)> Run(string dir, params string[] args)
    {
        var root = Repository.Root;
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "infra", "local", "cluster.sh"), .. args])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        start.Environment["RFT_CLUSTER_DIR"] = dir;
        // The silo this test assembly was built with (same configuration), not whatever silo/bin holds.
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        start.Environment["RFT_SILO_DLL"] = Path.Combine(root, "silo", "bin", bin.Parent!.Name, bin.Name, "rft-silo.dll");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(ScriptTimeout);
        return (process.ExitCode, await stdout + await stderr);
    }
}
