using Orleans.Rft.Grains.Jobs.Spec;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Bench;

/// <summary>
/// The cost of running through Orleans on one embedded silo: (1) orchestration overhead of a job,
/// 1 − device-busy time ÷ step wall time (evaluation counts as overhead: it is not engine work);
/// (2) rollout tokens/s through a RolloutWorkerGrain ÷ the engine's Sampler on the same batch.
/// </summary>
public static class ClusterBenchmark
{
    public sealed record Figures(int Steps, double StepWallSeconds, double EngineSeconds, double Overhead, double ClusterTokensPerSecond, double DirectTokensPerSecond);

    public static async Task<Figures> Run(string jobFile, int steps)
    {
        var spec = JobSpecParser.Parse(jobFile);
        spec = spec with { Training = spec.Training with { MaxSteps = steps }, EvalDataset = null, Checkpoint = spec.Checkpoint with { EverySteps = 0, KeepBest = false } };
        var artifacts = Path.Combine(Path.GetTempPath(), "orleans-rft-bench", "artifacts-" + Guid.NewGuid().ToString("N")[..8]);
        using var host = await ClusterConnection.StartEmbeddedAsync(artifacts, "cpu", CancellationToken.None);
        var grains = ClusterConnection.Grains(host);
        var devices = host.Services.GetRequiredService<DeviceRegistry>();

        // (1) a job: device-busy seconds versus the wall time of its steps (the first step, which loads models, excluded)
        var job = grains.GetGrain<IJobGrain>("bench-" + Guid.NewGuid().ToString("N")[..6]);
        await job.Submit(spec);
        await WaitFor(job, s => s.Step >= 1);
        var busyStart = devices.BusySeconds;
        var wall = Stopwatch.StartNew();
        var final = await WaitFor(job, s => s.Status.IsFinal());
        var wallSeconds = wall.Elapsed.TotalSeconds;
        var busy = devices.BusySeconds - busyStart;
        if (final.Status != JobStatus.Completed) throw new InvalidOperationException($"bench job ended {final.Status}: {final.LastError}");
        var history = await job.GetHistory(2);
        var stepWall = history.Sum(h => h.StepSeconds);

        // (2) the same generation batch through the grain and directly
        var rows = JsonlDataset.ReadOrThrow(spec.Dataset).Take(spec.Training.BatchPrompts).Select(r => r.Raw.ToJsonString()).ToArray();
        var silo = (await grains.GetGrain<IManagementGrain>(0).GetHosts(true)).Keys.Single().ToParsableString();
        var worker = grains.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(silo, "cpu"));
        var request = new GenerateRequest(spec.BaseModel, null, 0, rows, spec.Inference.N, spec.Inference.Temperature, spec.Inference.TopP,
            spec.Inference.TopK, spec.Inference.MaxTokens, [], 1);
        await GenerateResultPages.GenerateAsync(worker, request, TimeSpan.FromMinutes(10)); // warm (every page: an answer over one message is paged)
        // The direct path runs on the same device thread as the grain's work: libtorch's OpenMP team
        // belongs to the calling thread, and a second calling thread on this 2-core machine made the
        // direct figure swing between 1,274 and 2,315 tok/s while the grain path held at ~2,750.
        // The two are timed alternately (7 pairs, medians) so drift in the machine's load hits both.
        var device = devices.Get("cpu");
        using var model = await device.RunAsync(() => LanguageModel.Load(spec.BaseModel, device.Device));
        var options = new SamplingOptions(spec.Inference.Temperature, spec.Inference.TopP, spec.Inference.TopK, spec.Inference.MaxTokens, null, null, 1);
        var prompts = await device.RunAsync(() => rows.SelectMany(json =>
        {
            var row = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            var ids = model.Template.Encode(model.Tokenizer, Engine.Chat.ChatMessage.ParseList(row["messages"], "messages")).Ids;
            return Enumerable.Repeat(ids, spec.Inference.N);
        }).ToList());
        await device.RunAsync(() => Sampler.Generate(model, prompts, options)); // warm
        var cluster = new List<double>();
        var direct = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            var w = Stopwatch.StartNew();
            var r = await GenerateResultPages.GenerateAsync(worker, request, TimeSpan.FromMinutes(10));
            cluster.Add(r.Completions.Sum(c => c.CompletionIds.Length) / w.Elapsed.TotalSeconds);
            direct.Add(await device.RunAsync(() =>
            {
                var d = Stopwatch.StartNew();
                var sequences = Sampler.Generate(model, prompts, options);
                return sequences.Sum(c => c.TokenIds.Length) / d.Elapsed.TotalSeconds;
            }));
        }
        double clusterTps = Median(cluster), directTps = Median(direct);
        await host.StopAsync();
        return new Figures(history.Count, stepWall, busy, 1 - busy / wallSeconds, clusterTps, directTps);
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static async Task<JobSnapshot> WaitFor(IJobGrain job, Func<JobSnapshot, bool> condition)
    {
        while (true)
        {
            var s = await job.GetSnapshot();
            if (condition(s) || s.Status.IsFinal()) return s;
            await Task.Delay(50);
        }
    }
}
