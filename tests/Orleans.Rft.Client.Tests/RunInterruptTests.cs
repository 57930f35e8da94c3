using System.Diagnostics;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// <c>rft run</c> stopped by Ctrl+C (SIGINT to a real process): the job is cancelled at its step
/// boundary and the embedded silo stops before the process exits — exit 130, one line saying so, and
/// no stack trace or failure log (disposing the silo under a running job used to print several).
/// </summary>
public sealed class RunInterruptTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "rft-run-interrupt-tests", Guid.NewGuid().ToString("N")[..8]);

    public RunInterruptTests() => Directory.CreateDirectory(root);
    public void Dispose() { try { Directory.Delete(root, recursive: true); } catch (IOException) { } }

    [Fact]
    public async Task Ctrl_C_cancels_the_job_stops_the_silo_and_exits_130_without_a_stack_trace()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "rft.dll"), "run", Path.Combine(Repository.Root, "examples", "arithmetic", "job.yaml"),
                     "--artifacts", Path.Combine(root, "artifacts"), "--devices", "cpu" })
            start.ArgumentList.Add(a);
        using var rft = Process.Start(start)!;
        var stderr = rft.StandardError.ReadToEndAsync();
        try
        {
            var lines = new List<string>();
            using (var stepped = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
                while (await rft.StandardOutput.ReadLineAsync(stepped.Token) is { } line)
                {
                    lines.Add(line);
                    if (line.StartsWith("step ")) break; // the job is training
                }
            Assert.True(lines.Any(l => l.StartsWith("step ")), $"no step line:\n{string.Join('\n', lines)}\n{(rft.HasExited ? await stderr : "")}");
            var rest = rft.StandardOutput.ReadToEndAsync();

            Process.Start("kill", ["-INT", rft.Id.ToString()])!.WaitForExit();
            await rft.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
            var error = await stderr;
            Assert.True(rft.ExitCode == 130, $"exit {rft.ExitCode}: {error}");
            Assert.Contains("Ctrl+C: cancelling job arithmetic-", error);
            var output = string.Join('\n', lines) + "\n" + await rest;
            foreach (var text in new[] { error, output })
            {
                Assert.DoesNotContain("   at ", text);   // a .NET stack frame
                Assert.DoesNotContain("fail:", text);    // a logged failure
                Assert.DoesNotContain("Exception", text);
            }
        }
        finally
        {
            if (!rft.HasExited) rft.Kill(entireProcessTree: true);
        }
    }
}
