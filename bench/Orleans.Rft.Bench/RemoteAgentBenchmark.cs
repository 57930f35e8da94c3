using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Remote;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Bench;

/// <summary>
/// One concurrency level: remote rollouts (one model call each) against the same generations made in-cluster
/// through the rollout worker's generation service, both measured in the same run.
/// </summary>
public sealed record RemoteAgentRow(int Concurrency, int Rollouts, double RemoteSeconds, double ClusterSeconds, double RemoteP50Ms, double ClusterP50Ms)
{
    public double RolloutsPerSecond => Rollouts / RemoteSeconds;
    public double ClusterPerSecond => Rollouts / ClusterSeconds;
    /// <summary>Extra wall time per model call, in % of the in-cluster generation (throughput ratio − 1).</summary>
    public double OverheadPercent => (RemoteSeconds / ClusterSeconds - 1) * 100;
    /// <summary>Extra time a remote call costs a rollout, at this concurrency (median latency difference).</summary>
    public double OverheadMsPerCall => RemoteP50Ms - ClusterP50Ms;
}

/// <summary>
/// Remote-agent rollouts per second at 1, 8 and 32 concurrent rollouts against an agent server that
/// answers at once (instant_agent.py: one model call through <c>/rollouts/{id}/v1</c>, then its final
/// status pushed to the silo), beside the same generations (same prompts, seeds, <c>max_tokens</c> with
/// <c>ignore_eos</c>) made in-cluster with <see cref="IGenerationService"/> at the same concurrency, in one
/// silo (<c>rft serve</c>'s host) in the same run. The remote side includes everything a rollout does:
/// the token, /init, the agent's HTTP call, the recorded sampling, the pushed status.
/// </summary>
public static class RemoteAgentBenchmark
{
    const string ModelName = "bench";

    public static async Task<(List<RemoteAgentRow> Rows, long Parameters)> Run(string preset, IReadOnlyList<int> levels, int maxTokens, int rounds)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-bench", $"remote-{preset}", ModelName);
        long parameters;
        using (var created = TinyModelPresets.Create(preset, dir, seed: 0)) parameters = created.Config.ParameterCount;
        ChatTemplate template;
        Engine.Tokenization.TextTokenizer tokenizer;
        using (var model = LanguageModel.Load(dir)) (template, tokenizer) = (model.Template, model.Tokenizer);

        var port = ClusterConnection.FreePort();
        var silo = ServeCommand.Options(ModelName, dir, [], port, apiKey: null, device: "cpu",
            artifacts: Path.Combine(Path.GetTempPath(), "orleans-rft-bench", $"remote-artifacts-{Environment.ProcessId}"));
        using var host = await ClusterConnection.StartServingAsync(silo, CancellationToken.None);
        using var agentServer = StartAgent();
        var url = await ReadUrl(agentServer);
        var services = host.Services;
        var generation = services.GetRequiredService<IGenerationService>();
        var device = services.GetRequiredService<DeviceRegistry>().Names.First();
        using var lease = new ArtifactLease(services.GetRequiredService<IArtifactStore>(), dir, ArtifactLease.NothingToPin);
        var kind = services.GetServices<IAgentKind>().Single(k => k.Type == "remote");
        var options = new SamplingOptions(Temperature: 1.0, MaxTokens: maxTokens, IgnoreEos: true);
        var conversations = Enumerable.Range(0, levels.Max() * rounds)
            .Select(i => (IReadOnlyList<ChatMessage>)[ChatMessage.User($"Question {i}: what is {i % 17} + {i * 7 % 13}? Answer with the number only.")]).ToList();
        var prompts = conversations.Select(c => template.Encode(tokenizer, c).Ids).ToList();

        Task<double> InCluster(int i) => Timed(() => generation.GenerateAsync(device, new SequenceRequest(lease, null, null, prompts[i], options with { Seed = i })));
        Task<double> Remote(IAgent agent, int i) => Timed(async () =>
        {
            var id = $"bench-{i}-{Guid.NewGuid():N}";
            var policy = new RolloutPolicy(generation, device, lease, null, null, 0, template, tokenizer, null, options with { Seed = i }, 4096);
            var row = new JsonObject { ["messages"] = RemoteInitRequest.Messages(conversations[i]) };
            var t = await agent.RunAsync(new AgentRollout(id, row, conversations[i], null, policy, new AgentRolloutIds("bench", "bench", "step-0", $"{i}", id)), CancellationToken.None);
            if (t.FailureKind is not null || t.Calls.Count != 1 || t.Calls[0].CompletionIds.Length != maxTokens)
                throw new InvalidOperationException($"a bench rollout did not make its one call of {maxTokens} tokens: {t.FailureKind} {t.Failure} ({t.Calls.Count} calls)");
        });

        var warm = Agent(kind, url, 1);
        await InCluster(0);
        await Remote(warm, 0); // loads the model, opens connections
        var rows = new List<RemoteAgentRow>();
        foreach (var c in levels)
        {
            var agent = Agent(kind, url, c);
            // in-cluster, remote, in-cluster again: the two in-cluster runs bracket the remote one, so drift of a shared machine shows
            var before = await Load(c, rounds, InCluster);
            var remote = await Load(c, rounds, i => Remote(agent, i));
            var after = await Load(c, rounds, InCluster);
            var cluster = before.Seconds <= after.Seconds ? before : after;
            rows.Add(new RemoteAgentRow(c, c * rounds, remote.Seconds, cluster.Seconds, ClientLoad.Percentile(remote.LatenciesMs, 50), ClientLoad.Percentile(cluster.LatenciesMs, 50)));
            Console.Error.WriteLine($"{c} concurrent: {rows[^1].RolloutsPerSecond:F1} rollouts/s remote, {rows[^1].ClusterPerSecond:F1} generations/s in-cluster (runs {before.Seconds:F2} s / {after.Seconds:F2} s)");
        }
        try { agentServer.Kill(); } catch (InvalidOperationException) { }
        return (rows, parameters);
    }

    static IAgent Agent(IAgentKind kind, string url, int concurrency) => kind.Create(AgentSpec.Parse(new JsonObject
    {
        ["type"] = "remote", ["url"] = url, ["timeout_seconds"] = 300, ["max_concurrent_rollouts"] = concurrency, ["poll_interval_seconds"] = 1,
    }.ToJsonString()));

    static Process StartAgent()
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var info = new ProcessStartInfo(python, [Path.Combine(AppContext.BaseDirectory, "instant_agent.py")]) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
    }

    static async Task<string> ReadUrl(Process agent)
    {
        var line = await agent.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return line?.StartsWith("listening ", StringComparison.Ordinal) == true ? $"http://127.0.0.1:{line["listening ".Length..].Trim()}"
            : throw new InvalidOperationException($"instant_agent.py did not start: {line}");
    }

    sealed record Measured(double Seconds, List<double> LatenciesMs);

    static async Task<double> Timed(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed.TotalMilliseconds;
    }

    static async Task<Measured> Load(int concurrency, int rounds, Func<int, Task<double>> one)
    {
        var (seconds, latencies) = await ClientLoad.Run(concurrency, rounds, one);
        return new Measured(seconds, latencies);
    }
}
