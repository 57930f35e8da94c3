using Orleans.Rft.Grains.Jobs.Spec;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft run JOB.yaml</c>: the embedded default. Starts an in-process silo on localhost with local
/// artifacts, runs the job to the end with the live display and exports the adapter.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("JOB") { Description = "job spec (YAML or JSON)" };
        var output = new Option<string?>("--out") { Description = "where to export the adapter (default .rft/jobs/<id>/adapter)" };
        var artifacts = new Option<string>("--artifacts") { Description = "artifact directory", DefaultValueFactory = _ => ".rft/artifacts" };
        var devices = new Option<string>("--devices") { Description = "devices of the embedded silo", DefaultValueFactory = _ => "auto" };
        var httpPort = new Option<int?>("--http-port") { Description = "loopback port of the embedded silo's OpenAI-compatible endpoint (default: a free port)" };
        var command = new Command("run", "run a job on an embedded single-machine cluster") { file, output, artifacts, devices, httpPort };
        command.SetAction(async (p, cancellation) =>
        {
            var spec = JobSpecParser.Parse(p.GetValue(file)!);
            var json = p.GetValue(Cli.Json);
            var options = ClusterConnection.EmbeddedOptions(p.GetValue(artifacts)!, p.GetValue(devices)!, p.GetValue(httpPort));
            using var host = await ClusterConnection.StartServingAsync(options, cancellation);
            var id = JobIds.New(spec.Name);
            var job = ClusterConnection.Grains(host).GetGrain<IJobGrain>(id);
            if (!json)
            {
                Console.WriteLine($"job {id}: {spec.Name} on {spec.BaseModel}, {spec.Training.Trainers} trainer rank(s), artifacts in {Path.GetFullPath(p.GetValue(artifacts)!)}");
                Console.WriteLine($"chat with the policy while it trains: http://127.0.0.1:{options.HttpPort}/v1 (model jobs/{id}; loopback only)");
            }
            await job.Submit(spec);
            var started = DateTime.UtcNow;
            JobSnapshot final;
            try { final = await JobDisplay.Follow(job, Console.Out, json, cancellation); }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Console.Error.WriteLine($"Ctrl+C: cancelling job {id} at its step boundary; its checkpoints stay in {Path.GetFullPath(p.GetValue(artifacts)!)}");
                await CancelAndStop(job, host);
                return Cli.Interrupted;
            }
            var history = await job.GetHistory(0);
            var outDir = p.GetValue(output) ?? Path.Combine(".rft", "jobs", id, "adapter");
            AdapterInfo? adapter = final.Status == JobStatus.Completed ? await AdapterExporter.ExportAsync(job, null, outDir) : null;
            var wall = DateTime.UtcNow - started;
            if (json)
                Cli.PrintJson(new JsonObject
                {
                    ["job_id"] = id,
                    ["status"] = RftJson.Name(final.Status),
                    ["steps"] = final.Step,
                    ["baseline_eval_reward"] = final.BaselineEvalReward,
                    ["final_eval_reward"] = final.LatestEvalReward,
                    ["best_eval_reward"] = final.BestEvalReward,
                    ["wall_seconds"] = Math.Round(wall.TotalSeconds, 1),
                    ["adapter"] = adapter is null ? null : Path.GetFullPath(outDir),
                    ["error"] = final.LastError is null ? null : Cli.Redact(final.LastError),
                    ["history"] = RftJson.ToNode(history),
                });
            else
            {
                Console.WriteLine();
                Console.Write(JobDisplay.Chart(history));
                Console.WriteLine($"{final.Status} after {final.Step} steps in {wall:hh\\:mm\\:ss}; eval reward {Fmt(final.BaselineEvalReward)} → {Fmt(final.LatestEvalReward)} (best {Fmt(final.BestEvalReward)} at step {final.BestStep?.ToString() ?? "-"})");
                if (final.LastError is not null) Console.WriteLine($"error: {Cli.Redact(final.LastError)}");
                if (adapter is not null) Console.WriteLine($"adapter (PEFT) exported to {outDir}");
                Console.WriteLine($"rollouts: rft rollouts {id} --artifacts {p.GetValue(artifacts)} [--step N] [--best|--worst K]");
            }
            await host.StopAsync(CancellationToken.None);
            return final.Status == JobStatus.Completed ? Cli.Ok : Cli.Failure;
        });
        return command;
    }

    /// <summary>
    /// Ctrl+C: the job is cancelled as <c>rft cancel</c> would (it ends at its step boundary, its
    /// checkpoints kept), then the embedded silo stops, before the process exits. Disposing the silo
    /// under a running job made the job's step fail on a disposed service provider and the reminder
    /// service log stack traces. Bounded to stay inside the console's 20 s termination timeout: a step
    /// that takes longer is cut short by the silo's stop (the checkpoints are still kept).
    /// </summary>
    static async Task CancelAndStop(IJobGrain job, Microsoft.Extensions.Hosting.IHost host)
    {
        using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(12)))
        {
            try
            {
                await job.Cancel().WaitAsync(bounded.Token);
                while (!(await job.GetSnapshot().WaitAsync(bounded.Token)).Status.IsFinal()) await Task.Delay(200, bounded.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
        }
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        try { await host.StopAsync(stop.Token); }
        catch (OperationCanceledException) { }
    }

    static string Fmt(double? v) => v is double d ? d.ToString("F3") : "-";
}
