using Orleans.Rft.Grains.Jobs.Spec;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft submit | jobs | status | watch | cancel | pause | resume</c>: jobs on a running cluster.</summary>
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

    /// <summary>Connects, runs <paramref name="action"/> with the grain factory, disconnects.</summary>
    public static async Task<int> WithCluster(ParseResult p, CancellationToken cancellation, Func<IGrainFactory, Task<int>> action)
    {
        using var host = await ClusterConnection.ConnectAsync(p, cancellation);
        try { return await action(ClusterConnection.Grains(host)); }
        finally { await host.StopAsync(CancellationToken.None); }
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
            var spec = JobSpecParser.Parse(p.GetValue(file)!);
            bool json = p.GetValue(Cli.Json);
            return WithCluster(p, c, async grains =>
            {
                if (!p.GetValue(noUpload))
                    spec = await new ArtifactUploader(grains, json ? null : line => Console.Error.WriteLine(line)).UploadInputs(spec, c);
                var id = JobIds.New(spec.Name);
                var s = await grains.GetGrain<IJobGrain>(id).Submit(spec).WaitAsync(TimeSpan.FromSeconds(60), c);
                if (json) Cli.PrintJson(ToJson(s));
                else Console.WriteLine($"submitted {id} ({s.Status}); follow it with: rft watch {id}");
                return Cli.Ok;
            });
        });
        return command;
    }

    static Command Jobs()
    {
        var command = new Command("jobs", "list jobs");
        command.SetAction((p, c) => WithCluster(p, c, async grains =>
        {
            var ids = await grains.GetGrain<IJobRegistryGrain>(0).List().WaitAsync(TimeSpan.FromSeconds(30), c);
            var snapshots = await Task.WhenAll(ids.Select(id => grains.GetGrain<IJobGrain>(id).GetSnapshot().WaitAsync(TimeSpan.FromSeconds(30), c)));
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonArray(snapshots.Select(s => (JsonNode)ToJson(s)).ToArray()));
            else
            {
                Console.WriteLine($"{"JOB",-40} {"STATUS",-10} {"STEP",9} {"REWARD",7} {"EVAL",7}");
                foreach (var s in snapshots)
                    Console.WriteLine($"{s.JobId,-40} {s.Status,-10} {$"{s.Step}/{s.TotalSteps}",9} {s.Latest?.RewardMean,7:F3} {s.LatestEvalReward,7:F3}");
            }
            return Cli.Ok;
        }));
        return command;
    }

    static Command Status()
    {
        var id = new Argument<string>("ID");
        var command = new Command("status", "a job's state and latest metrics") { id };
        command.SetAction((p, c) => WithCluster(p, c, async grains =>
        {
            var s = await Get(grains, p.GetValue(id)!, c);
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
        return command;
    }

    static Command Watch()
    {
        var id = new Argument<string>("ID");
        var command = new Command("watch", "follow a job live until it ends") { id };
        command.SetAction((p, c) => WithCluster(p, c, async grains =>
        {
            var job = grains.GetGrain<IJobGrain>(p.GetValue(id)!);
            await Get(grains, p.GetValue(id)!, c);
            var final = await JobDisplay.Follow(job, Console.Out, p.GetValue(Cli.Json), c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(final));
            else Console.Write(JobDisplay.Chart(await job.GetHistory(0)));
            return final.Status == JobStatus.Completed ? Cli.Ok : Cli.Failure;
        }));
        return command;
    }

    static Command Control(string verb)
    {
        var id = new Argument<string>("ID");
        var command = new Command(verb, $"{verb} a job") { id };
        command.SetAction((p, c) => WithCluster(p, c, async grains =>
        {
            var before = await Get(grains, p.GetValue(id)!, c);
            if (before.Status.IsFinal())
                throw new ArgumentException($"job {before.JobId} already ended ({before.Status}); there is nothing to {verb}.");
            var job = grains.GetGrain<IJobGrain>(p.GetValue(id)!);
            var s = await (verb switch { "cancel" => job.Cancel(), "pause" => job.Pause(), _ => job.Resume() }).WaitAsync(TimeSpan.FromSeconds(30), c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(s));
            else if (verb != "resume" && !s.Status.IsFinal() && s.Status != JobStatus.Paused)
                Console.WriteLine($"{s.JobId}: {s.Status}, {verb} requested: it takes effect when the current step ends (`rft status {s.JobId}`)");
            else Console.WriteLine($"{s.JobId}: {s.Status}");
            return Cli.Ok;
        }));
        return command;
    }

    public static async Task<JobSnapshot> Get(IGrainFactory grains, string id, CancellationToken c)
    {
        try { return await grains.GetGrain<IJobGrain>(id).GetSnapshot().WaitAsync(TimeSpan.FromSeconds(30), c); }
        catch (KeyNotFoundException) { throw new ArgumentException($"no job '{id}'; `rft jobs` lists them."); }
    }

    public static JsonObject ToJson(JobSnapshot s) => JsonNode.Parse(JsonSerializer.Serialize(s))!.AsObject();
}
