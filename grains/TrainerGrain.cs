using Orleans.Placement;
using System.Diagnostics;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;
using static TorchSharp.torch;

namespace Orleans.Rft.Grains;

/// <summary>
/// One data-parallel trainer rank (key <c>{jobId}|{rank}|{silo}|{device}</c>). It holds a trainable
/// copy of the policy, the full local gradient of the current step, and the AdamW state of its own
/// contiguous shard of the flat LoRA vector (ZeRO-style). All tensor work runs on the device thread;
/// exchanges with peers are grain calls in chunks of at most <see cref="MessageLimits.MaxChunkBytes"/>.
/// </summary>
[SiloDevicePlacement, DevicePlacementFilter, Immovable] // they own device state: never rebalanced to another silo
public sealed class TrainerGrain(DeviceRegistry devices, IArtifactStore artifacts) : Grain, ITrainerGrain
{
    DeviceWorker device = null!;
    LanguageModel? model;
    PolicyTrainer? trainer;
    TrainerSetup setup = null!;
    ITrainerGrain[] peers = [];
    float[] localGradient = [];   // this step's gradient over the whole vector (before reduction)
    float[] reducedShard = [];    // Σ over ranks, this rank's slice only
    float[] updatedShard = [];
    int gradientStep = -1, updateStep = -1;

    public async Task<long> Initialize(TrainerSetup s)
    {
        setup = s;
        var (_, deviceName) = DeviceKeys.Parse(this.GetPrimaryKeyString());
        device = devices.Get(deviceName);
        peers = s.PeerKeys.Select(k => GrainFactory.GetGrain<ITrainerGrain>(k)).ToArray();
        var spec = s.Spec;
        string? resumeAdapter = s.ResumeCheckpoint is null ? null : await artifacts.MaterializeAsync($"{s.ResumeCheckpoint}/adapter");
        var baseModel = await artifacts.LocalPathAsync(spec.BaseModel);
        byte[]? optimizer = s.ResumeCheckpoint is null ? null : await artifacts.ReadAsync(OptimizerShard.Path(s.ResumeCheckpoint, s.Rank))
            ?? throw new FileNotFoundException($"checkpoint {s.ResumeCheckpoint} has no optimizer shard for rank {s.Rank}; was it taken with another number of trainers?");
        return await device.RunAsync(() =>
        {
            trainer?.Dispose();
            model?.Dispose();
            var lora = new LoraConfig(spec.Training.LoraRank, spec.Training.LoraAlpha, spec.Training.LoraDropout, spec.Training.TargetModules);
            model = ModelHost.LoadTrainable(device, baseModel, lora, spec.Seed);
            if (resumeAdapter is not null) PeftAdapter.Load(model, resumeAdapter);
            trainer = new PolicyTrainer(model, JobOptions.Trainer(spec, s.TotalSteps), s.Ranks, s.Rank);
            if (optimizer is not null) trainer.Optimizer.Import(OptimizerShard.Read(optimizer, $"{s.ResumeCheckpoint}/optimizer-rank{s.Rank}"));
            return trainer.ParameterCount;
        });
    }

    public Task<GradientSummary> ComputeGradients(int step, TrainSample[] samples, int totalSequences, long totalTokens) =>
        device.RunAsync(() =>
        {
            var t = Trainer;
            var watch = Stopwatch.StartNew();
            t.ZeroGradients();
            var batch = samples.Select(x => new PolicySample(x.PromptIds, x.CompletionIds, x.LogProbs, x.Advantage)).ToList();
            var g = batch.Count > 0
                ? t.ComputeGradients(batch, new LossNormalizer(totalSequences, totalTokens))
                : new GradientResult(0, LossStatistics.Empty, 0, 0);
            using (var flat = t.LocalGradient()) localGradient = flat.data<float>().ToArray();
            t.ZeroGradients();
            gradientStep = step;
            var st = g.Stats;
            return new GradientSummary(g.Loss, st.Tokens, st.RatioSum, st.RatioMin, st.RatioMax, st.ClippedTokens, st.KlSum, g.EntropySum, watch.Elapsed.TotalSeconds);
        });

    public async Task<double> ReduceScatter(int step)
    {
        var (start, length) = (Trainer.Optimizer.Start, (int)Trainer.Optimizer.Length);
        var sum = new float[length];
        foreach (var peer in peers)
        {
            for (int offset = 0; offset < length; offset += MessageLimits.MaxChunkFloats)
            {
                int count = Math.Min(MessageLimits.MaxChunkFloats, length - offset);
                var chunk = await peer.GetGradientSlice(step, start + offset, count);
                for (int i = 0; i < count; i++) sum[offset + i] += chunk[i];
            }
        }
        reducedShard = sum;
        return sum.Sum(x => (double)x * x);
    }

    public Task ApplyUpdate(int step, double clipScale, double learningRate) =>
        device.RunAsync(() =>
        {
            using var gradient = tensor(reducedShard).to(model!.Network.Device);
            using var updated = Trainer.ApplyShard(gradient, clipScale, learningRate);
            updatedShard = updated.cpu().data<float>().ToArray();
            updateStep = step;
        });

    public async Task AllGather(int step)
    {
        var full = new float[Trainer.ParameterCount];
        for (int r = 0; r < peers.Length; r++)
        {
            var (start, length) = FlatParameters.Shard(Trainer.ParameterCount, setup.Ranks, r);
            for (long offset = 0; offset < length; offset += MessageLimits.MaxChunkFloats)
            {
                int count = (int)Math.Min(MessageLimits.MaxChunkFloats, length - offset);
                var chunk = await peers[r].GetParameterSlice(step, start + offset, count);
                Array.Copy(chunk, 0, full, start + offset, count);
            }
        }
        await device.RunAsync(() =>
        {
            using var flat = tensor(full).to(model!.Network.Device);
            Trainer.LoadFlat(flat);
        });
    }

    public Task<float[]> GetGradientSlice(int step, long start, int length)
    {
        if (step != gradientStep) throw new InvalidOperationException($"rank {setup.Rank} holds the gradient of step {gradientStep}, not {step}.");
        return Task.FromResult(localGradient.AsSpan((int)start, length).ToArray());
    }

    public Task<float[]> GetParameterSlice(int step, long start, int length)
    {
        if (step != updateStep) throw new InvalidOperationException($"rank {setup.Rank} holds the update of step {updateStep}, not {step}.");
        var offset = start - Trainer.Optimizer.Start;
        if (offset < 0 || offset + length > updatedShard.Length) throw new ArgumentOutOfRangeException(nameof(start), $"rank {setup.Rank} owns [{Trainer.Optimizer.Start}, +{updatedShard.Length}).");
        return Task.FromResult(updatedShard.AsSpan((int)offset, length).ToArray());
    }

    public async Task<string> PublishAdapter(string prefix)
    {
        var local = Path.Combine(Path.GetTempPath(), "orleans-rft", "publish", setup.JobId, Path.GetFileName(prefix));
        await device.RunAsync(() => PeftAdapter.Save(model!, local, setup.Spec.BaseModelDisplayName));
        try { await artifacts.UploadDirectoryAsync(local, prefix); }
        finally { Directory.Delete(local, recursive: true); } // one per version: a long job would fill /tmp
        return prefix;
    }

    public async Task SaveOptimizer(string checkpoint)
    {
        var state = await device.RunAsync(() => OptimizerShard.Write(Trainer.Optimizer.Export()));
        await artifacts.WriteAsync(OptimizerShard.Path(checkpoint, setup.Rank), state);
    }

    public Task<float[]> GetFlatParameters() =>
        device.RunAsync(() => { using var flat = FlatParameters.Flatten(Trainer.Parameters); return flat.cpu().data<float>().ToArray(); });

    PolicyTrainer Trainer => trainer ?? throw new InvalidOperationException("trainer rank used before Initialize.");

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var t = trainer; var m = model;
        if (t is not null || m is not null) _ = device.RunAsync(() => { t?.Dispose(); m?.Dispose(); });
        return Task.CompletedTask;
    }
}
