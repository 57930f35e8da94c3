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
/// Lifetime: every call renews a keep-alive lease (<see cref="KeepAlive"/>) so that neither a paused
/// job nor a long rollout phase finds its ranks collected; an abandoned generation is freed by
/// <see cref="Release"/> (the job's, or a rank of the job's next generation on this silo). A rank
/// used without its model throws <see cref="TrainerRankLostException"/>, which the job treats as
/// transient: it rebuilds its ranks from the last checkpoint.
/// </summary>
[SiloDevicePlacement, DevicePlacementFilter, Immovable] // they own device state: never rebalanced to another silo
public sealed class TrainerGrain(DeviceRegistry devices, IArtifactStore artifacts, TrainerRankRegistry ranks) : Grain, ITrainerGrain, IIncomingGrainCallFilter
{
    /// <summary>How long a rank outlives its last call: a job paused longer resumes from its checkpoint.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromHours(24);

    /// <summary>Floats per exchanged chunk; tests lower it so a small model spans several chunks.</summary>
    public static int ChunkFloats { get; set; } = MessageLimits.MaxChunkFloats;

    DeviceWorker? deviceWorker;
    readonly Dictionary<int, TrainBatchPart> staged = new();
    int stagedStep = -1;
    LanguageModel? model;
    ArtifactLease? baseModelFiles;
    PolicyTrainer? trainer;
    TrainerSetup? setup;           // null on an activation that Initialize never reached
    ITrainerGrain[] peers = [];
    float[] localGradient = [];   // this step's gradient over the whole vector (before reduction)
    float[] reducedShard = [];    // Σ over ranks, this rank's slice only
    float[] updatedShard = [];
    int gradientStep = -1, updateStep = -1;

    public async Task<long> Initialize(TrainerSetup s)
    {
        DelayDeactivation(KeepAlive);
        setup = s;
        var (_, deviceName) = DeviceKeys.Parse(this.GetPrimaryKeyString());
        var device = deviceWorker = devices.Get(deviceName);
        await ranks.Register(this.GetPrimaryKeyString(), s.JobId, GrainFactory); // frees this job's abandoned ranks on this silo
        peers = s.PeerKeys.Select(k => GrainFactory.GetGrain<ITrainerGrain>(k)).ToArray();
        var spec = s.Spec;
        // The base model first: its download trims the cache, which must not evict the adapter fetched next.
        var lease = await artifacts.LeaseAsync(spec.BaseModel, "base_model"); // held while this rank lives, so a re-initialization finds the files
        (baseModelFiles, lease) = (lease, baseModelFiles);
        lease?.Dispose();
        var baseModel = baseModelFiles.Path;
        string? resumeAdapter = s.ResumeCheckpoint is null ? null : await artifacts.MaterializeAsync($"{s.ResumeCheckpoint}/adapter");
        var optimizerPath = s.ResumeCheckpoint is null ? null : OptimizerShard.Path(s.ResumeCheckpoint, s.Rank);
        byte[]? optimizer = optimizerPath is null ? null : await artifacts.ReadAsync(optimizerPath)
            ?? throw new FileNotFoundException($"checkpoint {s.ResumeCheckpoint} has no optimizer shard for rank {s.Rank}; was it taken with another number of trainers?");
        return await device.RunAsync(() =>
        {
            trainer?.Dispose();
            model?.Dispose();
            var lora = new LoraConfig(spec.Training.LoraRank, spec.Training.LoraAlpha, spec.Training.LoraDropout, spec.Training.TargetModules);
            model = ModelHost.LoadTrainable(device, baseModel, lora, spec.Seed);
            if (resumeAdapter is not null) PeftAdapter.Load(model, resumeAdapter);
            trainer = new PolicyTrainer(model, JobOptions.Trainer(spec, s.TotalSteps), s.Ranks, s.Rank);
            if (optimizer is not null) trainer.Optimizer.Import(OptimizerShard.ReadFile(optimizer, optimizerPath!));
            return trainer.ParameterCount;
        });
    }

    public Task StageSamples(int step, int part, TrainBatchPart samples)
    {
        _ = Trainer;
        if (step != stagedStep) { staged.Clear(); stagedStep = step; }
        staged[part] = samples;
        return Task.CompletedTask;
    }

    public Task<GradientSummary> ComputeGradients(int step, int parts, int totalSequences, long totalTokens)
    {
        var t0 = Trainer;
        if (stagedStep != step || Enumerable.Range(0, parts).Any(p => !staged.ContainsKey(p)))
            throw new InvalidOperationException($"rank {Setup.Rank} has {(stagedStep == step ? staged.Count : 0)} of the {parts} sample parts of step {step}.");
        var samples = TrainBatchParts.Join(Enumerable.Range(0, parts).Select(p => staged[p]));
        staged.Clear();
        return device.RunAsync(() =>
        {
            var t = t0;
            var watch = Stopwatch.StartNew();
            t.ZeroGradients();
            var batch = samples.Select(TrainSamples.ToPolicy).ToList();
            var g = batch.Count > 0
                ? t.ComputeGradients(batch, new LossNormalizer(totalSequences, totalTokens))
                : new GradientResult(0, LossStatistics.Empty, 0, 0);
            using (var flat = t.LocalGradient()) localGradient = flat.data<float>().ToArray();
            t.ZeroGradients();
            gradientStep = step;
            var st = g.Stats;
            return new GradientSummary(g.Loss, st.Tokens, st.RatioSum, st.RatioMin, st.RatioMax, st.ClippedTokens, st.KlSum, g.EntropySum, watch.Elapsed.TotalSeconds);
        });
    }

    public async Task<double> ReduceScatter(int step)
    {
        var (start, length) = (Trainer.Optimizer.Start, (int)Trainer.Optimizer.Length);
        var sum = new float[length];
        foreach (var peer in peers)
        {
            for (int offset = 0; offset < length; offset += ChunkFloats)
            {
                int count = Math.Min(ChunkFloats, length - offset);
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
            var (start, length) = FlatParameters.Shard(Trainer.ParameterCount, Setup.Ranks, r);
            for (long offset = 0; offset < length; offset += ChunkFloats)
            {
                int count = (int)Math.Min(ChunkFloats, length - offset);
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
        // A peer asking a fresh activation (released or collected: no setup, no gradient) learns the rank is lost, not a null reference.
        if (step != gradientStep) throw setup is null ? Lost() : new InvalidOperationException($"rank {Setup.Rank} holds the gradient of step {gradientStep}, not {step}.");
        return Task.FromResult(localGradient.AsSpan((int)start, length).ToArray());
    }

    public Task<float[]> GetParameterSlice(int step, long start, int length)
    {
        if (step != updateStep) throw setup is null ? Lost() : new InvalidOperationException($"rank {Setup.Rank} holds the update of step {updateStep}, not {step}.");
        var offset = start - Trainer.Optimizer.Start;
        if (offset < 0 || offset + length > updatedShard.Length) throw new ArgumentOutOfRangeException(nameof(start), $"rank {Setup.Rank} owns [{Trainer.Optimizer.Start}, +{updatedShard.Length}).");
        return Task.FromResult(updatedShard.AsSpan((int)offset, length).ToArray());
    }

    public async Task<string> PublishAdapter(string prefix)
    {
        var local = Path.Combine(Path.GetTempPath(), "orleans-rft", "publish", Setup.JobId, Path.GetFileName(prefix));
        await device.RunAsync(() => PeftAdapter.Save(model!, local, Setup.Spec.BaseModelDisplayName));
        try { await artifacts.UploadDirectoryAsync(local, prefix); }
        finally { Directory.Delete(local, recursive: true); } // one per version: a long job would fill /tmp
        return prefix;
    }

    public async Task SaveOptimizer(string checkpoint)
    {
        var state = await device.RunAsync(() => OptimizerShard.Write(Trainer.Optimizer.Export()));
        await artifacts.WriteAsync(OptimizerShard.Path(checkpoint, Setup.Rank), state);
    }

    public Task<float[]> GetFlatParameters() =>
        device.RunAsync(() => { using var flat = FlatParameters.Flatten(Trainer.Parameters); return flat.cpu().data<float>().ToArray(); });

    /// <summary>The trainer; a fresh activation (collected, released or never initialised) says so.</summary>
    PolicyTrainer Trainer => trainer ?? throw Lost();

    /// <summary>What Initialize was given; a fresh activation says the rank is lost.</summary>
    TrainerSetup Setup => setup ?? throw Lost();

    TrainerRankLostException Lost() => new($"trainer rank {this.GetPrimaryKeyString()} holds no model: its activation was collected or released (or Initialize never ran); the job re-initialises its ranks from the last checkpoint.");

    DeviceWorker device => deviceWorker ?? throw new TrainerRankLostException($"trainer rank {this.GetPrimaryKeyString()} has no device: its activation was collected or released (or Initialize never ran); the job re-initialises its ranks from the last checkpoint.");

    /// <summary>Every call to an initialised rank renews its lease (on the grain's scheduler, where DelayDeactivation belongs).</summary>
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (trainer is not null) DelayDeactivation(KeepAlive);
        return context.Invoke();
    }

    public async Task Release()
    {
        await FreeDevice();
        staged.Clear();
        DeactivateOnIdle();
    }

    /// <summary>Disposes the model and optimizer on the device thread (after any work already queued there).</summary>
    Task FreeDevice()
    {
        var (t, m, d) = (trainer, model, deviceWorker);
        (trainer, model) = (null, null);
        ranks.Unregister(this.GetPrimaryKeyString());
        return d is null || (t is null && m is null) ? Task.CompletedTask : d.RunAsync(() => { t?.Dispose(); m?.Dispose(); });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _ = FreeDevice();
        baseModelFiles?.Dispose();
        return Task.CompletedTask;
    }
}
