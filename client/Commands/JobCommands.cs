using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs.Spec;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft submit | jobs | status | watch | cancel | pause | resume</c>: jobs on a running cluster, reached through
/// an Orleans gateway or, with <c>--url</c>, over its HTTP endpoint (<see cref="IRftCluster"/>).
/// </summary>
public static class JobCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Submit();
        yield return Jobs();
        yield return Status();
        yield return Watch();
        foreach (var verb in new[] { "cancel", "pause", "resume" }) yield return Control(verb);
    }

    /// <summary>Connects (gateway or HTTP, as the command line says), runs <paramref name="action"/>, disconnects.</summary>
    public static async Task<int> WithCluster(ParseResult p, CancellationToken cancellation, Func<IRftCluster, Task<int>> action)
    {
        await using var cluster = await ClusterConnection.OpenAsync(p, cancellation);
        return await action(cluster);
    }

    static Command Submit()
    {
        var file = new Argument<string>("JOB");
        var noUpload = new Option<bool>("--no-upload")
        {
            Description = "leave base_model and datasets as paths the silos read themselves (a shared volume) instead of uploading them to the cluster's artifact store",
        };
        var command = new Command("submit", "validate a job spec, upload its inputs and submit it to the cluster") { file, noUpload };
        command.SetAction((p, c) =>
        {
            var (spec, document) = JobSpecParser.ParseDocument(p.GetValue(file)!);
            bool json = p.GetValue(Cli.Json);
            return WithCluster(p, c, async cluster =>
            {
                var s = await cluster.Submit(spec, document, !p.GetValue(noUpload), json ? null : line => Console.Error.WriteLine(line), c);
                if (json) Cli.PrintJson(ToJson(s));
                else Console.WriteLine($"submitted {s.JobId} ({s.Status}); follow it with: rft watch {s.JobId}");
                return Cli.Ok;
            });
        });
        return command.WithHttpOptions();
    }

    static Command Jobs()
    {
        var command = new Command("jobs", "list jobs");
        command.SetAction((p, c) => WithCluster(p, c, async cluster =>
        {
            var snapshots = await cluster.Jobs(c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonArray(snapshots.Select(s => (JsonNode)ToJson(s)).ToArray()));
            else
            {
                Console.WriteLine($"{"JOB",-40} {"STATUS",-10} {"STEP",9} {"REWARD",7} {"EVAL",7}");
                foreach (var s in snapshots)
                    Console.WriteLine($"{s.JobId,-40} {s.Status,-10} {$"{s.Step}/{s.TotalSteps}",9} {s.Latest?.RewardMean,7:F3} {s.LatestEvalReward,7:F3}");
            }
            return Cli.Ok;
        }));
        return command.WithHttpOptions();
    }

    static Command Status()
    {
        var id = new Argument<string>("ID");
        var command = new Command("status", "a job's state and latest metrics") { id };
        command.SetAction((p, c) => WithCluster(p, c, async cluster =>
        {
            var s = await cluster.Get(p.GetValue(id)!, c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(s));
            else
            {
                Console.WriteLine($"{s.JobId}: {s.Status}, step {s.Step}/{s.TotalSteps}, epoch {s.Epoch}, policy v{s.PolicyVersion}, {s.Trainers} trainer rank(s)");
                var eval = new List<string>();
                if (s.BaselineEvalReward is { } b) eval.Add($"base {b:F3}");
                if (s.LatestEvalReward is { } l) eval.Add($"latest {l:F3}");
                if (s.BestEvalReward is { } best) eval.Add($"best {best:F3} (step {s.BestStep})");
                if (eval.Count > 0) Console.WriteLine($"eval reward: {string.Join(", ", eval)}");
                if (s.Latest is { } m) Console.WriteLine($"last step: reward {m.RewardMean:F3} ± {m.RewardStd:F3}, valid {m.ValidFraction:P0}, {m.StepSeconds:F1} s");
                if (s.LastError is not null) Console.WriteLine($"error: {Cli.Redact(s.LastError)}");
                foreach (var e in (s.Events ?? []).TakeLast(5)) Console.WriteLine($"event {e.At:u} step {e.Step} {e.Kind}: {Cli.Redact(e.Message)}");
            }
            return s.Status == JobStatus.Failed ? Cli.Failure : Cli.Ok;
        }));
        return command.WithHttpOptions();
    }

    static Command Watch()
    {
        var id = new Argument<string>("ID");
        var command = new Command("watch", "follow a job live until it ends") { id };
        command.SetAction((p, c) => WithCluster(p, c, async cluster =>
        {
            bool json = p.GetValue(Cli.Json);
            var display = new JobDisplay(Console.Out);
            var started = DateTime.UtcNow;
            JobSnapshot? final = null;
            await foreach (var update in cluster.Follow(p.GetValue(id)!, c))
            {
                if (!json) display.Show(update.Snapshot, update.NewSteps, DateTime.UtcNow - started);
                final = update.Snapshot;
            }
            if (final is null) throw new Jobs.ClusterUnavailableException($"the cluster sent nothing about {p.GetValue(id)}.");
            if (json) Cli.PrintJson(ToJson(final));
            else Console.Write(JobDisplay.Chart(await cluster.History(final.JobId, 0, c)));
            return final.Status == JobStatus.Completed ? Cli.Ok : Cli.Failure;
        }));
        return command.WithHttpOptions();
    }

    static Command Control(string verb)
    {
        var id = new Argument<string>("ID");
        var command = new Command(verb, $"{verb} a job") { id };
        command.SetAction((p, c) => WithCluster(p, c, async cluster =>
        {
            var s = await cluster.Control(p.GetValue(id)!, verb, c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(s));
            else if (verb != "resume" && !s.Status.IsFinal() && s.Status != JobStatus.Paused)
                Console.WriteLine($"{s.JobId}: {s.Status}, {verb} requested: it takes effect when the current step ends (`rft status {s.JobId}`)");
            else Console.WriteLine($"{s.JobId}: {s.Status}");
            return Cli.Ok;
        }));
        return command.WithHttpOptions();
    }

    /// <summary>The snapshot as every <c>--json</c> output and the jobs API show it (<see cref="RftJson"/>).</summary>
    public static JsonObject ToJson(JobSnapshot s) => RftJson.ToObject(s);
}
