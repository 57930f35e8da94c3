using System.Diagnostics;

namespace Orleans.Rft.Client.Tests;

/// <summary>A cluster that cannot be reached is one error line with the fix, never pages of Orleans and hosting logs.</summary>
public sealed class ClusterUnreachableTests
{
    // Azurite's documented, public development account, pointed at a port nobody listens on.
    const string Unreachable = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";

    [Fact]
    public async Task An_unreachable_Azure_Table_cluster_prints_the_reason_and_the_fix_without_log_lines_or_stack_traces()
    {
        // A process of its own: the console logger writes from its own thread to the real stderr.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rft.dll"));
        start.ArgumentList.Add("jobs");
        start.Environment["RFT_AZURE_STORAGE"] = Unreachable;
        start.Environment.Remove("RFT_DEBUG");
        using var rft = Process.Start(start)!;
        var error = rft.StandardError.ReadToEndAsync();
        await rft.StandardOutput.ReadToEndAsync();
        await rft.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var lines = (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1, rft.ExitCode);
        Assert.Contains("cannot reach the cluster (Azure Table membership, cluster id 'rft')", lines[^1]);
        Assert.Contains("Check --azure-storage / RFT_AZURE_STORAGE", lines[^1]);
        Assert.True(lines.Length == 1, string.Join('\n', lines.Take(10)));
    }
}
