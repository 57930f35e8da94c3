using Orleans.Concurrency;
namespace Orleans.Rft.GrainInterfaces;

/// <summary>One scored sample for the trainer (token ids, behaviour log-probs, advantage; <see cref="Mask"/>: which completion tokens train, null = all).</summary>
[GenerateSerializer, Immutable, Alias("rft.TrainSample")]
public sealed record TrainSample(
    [property: Id(0)] int[] PromptIds,
    [property: Id(1)] int[] CompletionIds,
    [property: Id(2)] float[] LogProbs,
    [property: Id(3)] double Advantage,
    [property: Id(4)] bool[]? Mask = null)
{
    /// <summary>Completion tokens the loss sees.</summary>
    public int TrainableTokens => Mask?.Count(m => m) ?? CompletionIds.Length;
}

/// <summary>
/// Part of one rank's samples for a step, small enough for one message: every prompt once, and each
/// sample (its <see cref="TrainSample.PromptIds"/> left empty) naming its prompt by index.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.TrainBatchPart")]
public sealed record TrainBatchPart(
    [property: Id(0)] int[][] Prompts,
    [property: Id(1)] int[] PromptOf,
    [property: Id(2)] TrainSample[] Samples);

[GenerateSerializer, Immutable, Alias("rft.TrainerSetup")]
public sealed record TrainerSetup(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobSpec Spec,
    [property: Id(2)] int Ranks,
    [property: Id(3)] int Rank,
    [property: Id(4)] string[] PeerKeys,
    [property: Id(5)] string? ResumeCheckpoint,
    [property: Id(6)] int TotalSteps);

/// <summary>Sums over this rank's part of the batch (they add across ranks).</summary>
[GenerateSerializer, Immutable, Alias("rft.GradientSummary")]
public sealed record GradientSummary(
    [property: Id(0)] double Loss,
    [property: Id(1)] double Tokens,
    [property: Id(2)] double RatioSum,
    [property: Id(3)] double RatioMin,
    [property: Id(4)] double RatioMax,
    [property: Id(5)] double ClippedTokens,
    [property: Id(6)] double KlSum,
    [property: Id(7)] double EntropySum,
    [property: Id(8)] double EngineSeconds);

/// <summary>
/// Trainer rank (key <c>{jobId}|{rank}|{silo}|{device}</c>). Data-parallel over the step's samples;
/// rank k owns shard k of the flat LoRA vector and its AdamW state. The job grain drives the phases;
/// ranks exchange gradient and parameter slices by pulling them from each other in chunks of at
/// most <see cref="MessageLimits.MaxChunkFloats"/>. A rank lives as long as its job calls it (a
/// keep-alive lease, renewed by every call); one that comes back without its model throws
/// <see cref="TrainerRankLostException"/>.
/// </summary>
public interface ITrainerGrain : IGrainWithStringKey
{
    [ResponseTimeout("00:05:00")] Task<long> Initialize(TrainerSetup setup);
    /// <summary>Receives part <paramref name="part"/> of this rank's samples for <paramref name="step"/> (idempotent).</summary>
    [ResponseTimeout("00:01:00")] Task StageSamples(int step, int part, TrainBatchPart samples);

    /// <summary>The local gradient over the <paramref name="parts"/> parts staged for <paramref name="step"/>.</summary>
    [ResponseTimeout("00:10:00")] Task<GradientSummary> ComputeGradients(int step, int parts, int totalSequences, long totalTokens);

    /// <summary>Pulls this rank's shard of every peer's gradient and sums them; returns the shard's squared norm.</summary>
    [ResponseTimeout("00:05:00")] Task<double> ReduceScatter(int step);

    [ResponseTimeout("00:05:00")] Task ApplyUpdate(int step, double clipScale, double learningRate);

    /// <summary>Pulls every peer's updated shard and loads the whole vector.</summary>
    [ResponseTimeout("00:05:00")] Task AllGather(int step);

    [AlwaysInterleave] Task<float[]> GetGradientSlice(int step, long start, int length);
    [AlwaysInterleave] Task<float[]> GetParameterSlice(int step, long start, int length);

    /// <summary>Writes the current adapter (PEFT layout) to the artifact store under <paramref name="prefix"/> (a name never reused); returns it.</summary>
    [ResponseTimeout("00:05:00")] Task<string> PublishAdapter(string prefix);

    /// <summary>Writes this rank's optimizer shard next to a checkpoint.</summary>
    [ResponseTimeout("00:05:00")] Task SaveOptimizer(string checkpoint);

    /// <summary>The flat LoRA vector (for tests comparing ranks).</summary>
    [ResponseTimeout("00:05:00")] Task<float[]> GetFlatParameters();

    /// <summary>Frees the model and optimizer on the device now and deactivates (the job abandoned this rank's generation).</summary>
    [ResponseTimeout("00:01:00")] Task Release();
}
