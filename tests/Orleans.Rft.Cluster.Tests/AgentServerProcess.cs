using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The test agent server (remote_agent_server.py, Python standard library) as a real process on a free
/// port: started with its environment, ready once it prints "listening PORT", killed (its own process
/// only) on dispose. <see cref="Events"/> reads what it wrote about each rollout.
/// </summary>
public sealed class AgentServerProcess : IDisposable
{
    readonly Process process;
    public string EventsPath { get; }
    public string Url { get; }

    AgentServerProcess(Process process, string eventsPath, string url) => (this.process, EventsPath, Url) = (process, eventsPath, url);

    public static async Task<AgentServerProcess> StartAsync(IReadOnlyDictionary<string, string>? env = null)
    {
        var events = Path.Combine(Path.GetTempPath(), $"agent-events-{Guid.NewGuid():N}.jsonl");
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var info = new ProcessStartInfo(python, [Path.Combine(AppContext.BaseDirectory, "remote_agent_server.py")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["AGENT_EVENTS"] = events;
        info.Environment["PYTHONUNBUFFERED"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var process = Process.Start(info)!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            throw new InvalidOperationException($"the agent server did not start: {line} {await process.StandardError.ReadToEndAsync()}");
        _ = process.StandardError.ReadToEndAsync(); // drained, so a chatty server never blocks
        return new AgentServerProcess(process, events, $"http://127.0.0.1:{line["listening ".Length..].Trim()}");
    }

    /// <summary>The events the server wrote, in order.</summary>
    public List<JsonObject> Events() => File.Exists(EventsPath)
        ? File.ReadAllLines(EventsPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
        : [];

    public void Dispose()
    {
        try { if (!process.HasExited) process.Kill(); } catch (InvalidOperationException) { }
        process.Dispose();
        try { File.Delete(EventsPath); } catch (IOException) { }
    }
}
