using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft rollouts ID [--step N] [--worst|--best K]</c>: individual rollouts with their scores; an agent
/// rollout also with its turns, tool calls and tool results, its failure and its extra training sequences
/// (<see cref="Jobs.AgentRolloutView"/>).
/// </summary>
public static class RolloutsCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID");
        var step = new Option<int?>("--step") { Description = "0-based step (default: the latest)" };
        var worst = new Option<int?>("--worst") { Description = "only the K lowest rewards" };
        var best = new Option<int?>("--best") { Description = "only the K highest rewards" };
        var artifacts = new Option<string?>("--artifacts")
        {
            Description = "read the rollouts from this local artifact folder (what `rft run` writes, .rft/artifacts) instead of a cluster: works after the run has ended",
        };
        var command = new Command("rollouts", "show a step's rollouts") { id, step, worst, best, artifacts };
        command.SetAction(async (p, c) =>
        {
            if (p.GetValue(artifacts) is string folder)
            {
                var local = Jobs.LocalRollouts.Read(folder, p.GetValue(id)!, p.GetValue(step));
                if (local.Error is string error) { Console.Error.WriteLine($"error: {error}"); return Cli.Failure; }
                return Show(p, local.Rollouts!, worst, best);
            }
            return await JobCommands.WithCluster(p, c, async cluster =>
            {
                await cluster.Get(p.GetValue(id)!, c);
                return Show(p, await Jobs.RolloutReader.ReadAllAsync(cluster, p.GetValue(id)!, p.GetValue(step), c), worst, best);
            });
        });
        return command.WithHttpOptions();
    }

    static int Show(ParseResult p, IEnumerable<Rollout> rollouts, Option<int?> worst, Option<int?> best)
    {
        if (p.GetValue(worst) is int w) rollouts = rollouts.OrderBy(r => r.Reward).Take(w);
        else if (p.GetValue(best) is int b) rollouts = rollouts.OrderByDescending(r => r.Reward).Take(b);
        var list = rollouts.ToList();
        if (p.GetValue(Cli.Json)) { Cli.PrintJson(new JsonArray(list.Select(r => (JsonNode?)Json(r)).ToArray())); return Cli.Ok; }
        if (list.Count == 0) Console.WriteLine("no rollouts for that step yet.");
        foreach (var r in list) Write(Console.Out, r);
        return Cli.Ok;
    }

    public static void Write(TextWriter output, Rollout r)
    {
        output.WriteLine($"── step {r.Step} row {r.Row} sample {r.Sample} (policy v{r.PolicyVersion}) reward {r.Reward:F3}{(r.IsScoreValid ? "" : " INVALID")} advantage {r.Advantage:+0.00;-0.00} {Jobs.TerminalText.Safe(r.FinishReason)}");
        if (r.Agent is { } agent)
            foreach (var line in Jobs.AgentRolloutView.Lines(agent, r.ExtraSamples)) output.WriteLine($"   {line.Replace("\n", "\n   ")}");
        // What the model, tools and evaluators wrote is shown with its control characters replaced: no escape sequence reaches the terminal.
        output.WriteLine($"   completion: {Jobs.TerminalText.Safe(r.Completion).Replace("\n", "\n               ")}");
        output.WriteLine($"   reason: {Jobs.TerminalText.Safe(r.Reason)}");
        if (r.Metrics.Count > 0) output.WriteLine($"   metrics: {string.Join(", ", r.Metrics.Select(m => $"{Jobs.TerminalText.Safe(m.Key)}={m.Value:F3}"))}");
    }

    /// <summary>The rollout as the jobs API serialises it (<see cref="RftJson"/>), with an agent's report replaced by its readable form under <c>agent</c>.</summary>
    public static JsonObject Json(Rollout r)
    {
        var o = RftJson.ToObject(r);
        o["agent"] = r.Agent is { } agent ? Jobs.AgentRolloutView.Json(agent, r.ExtraSamples) : null;
        return o;
    }
}
