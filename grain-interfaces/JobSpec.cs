namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// A resolved, validated job (DESIGN §4). File paths are absolute; the evaluator is kept as its
/// JSON mapping so that the evaluators project stays free of Orleans types.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] string Name,
    [property: Id(1)] string BaseModel,
    [property: Id(2)] string Dataset,
    [property: Id(3)] string? EvalDataset,
    [property: Id(4)] string EvaluatorJson,
    [property: Id(5)] TrainingSpec Training,
    [property: Id(6)] InferenceSpec Inference,
    [property: Id(7)] LossSpec Loss,
    [property: Id(8)] CheckpointSpec Checkpoint,
    [property: Id(9)] int EvalEvery,
    [property: Id(10)] long Seed,
    [property: Id(11)] string BaseDirectory,
    [property: Id(12)] string? BaseModelName = null,
    [property: Id(13)] string? AgentJson = null)
{
    /// <summary>What adapters name as their base (PEFT <c>base_model_name_or_path</c>): the model as the user gave it, not its artifact-store address.</summary>
    public string BaseModelDisplayName => BaseModelName ?? BaseModel;
}

/// <summary>Optimisation settings (<c>training:</c>); defaults follow the managed RFT services.</summary>
[GenerateSerializer, Immutable, Alias("rft.TrainingSpec")]
public sealed record TrainingSpec(
    [property: Id(0)] int Epochs = 1,
    [property: Id(1)] double LearningRate = 1e-4,
    [property: Id(2)] int WarmupSteps = 0,
    [property: Id(3)] int LoraRank = 8,
    [property: Id(4)] double LoraAlpha = 16,
    [property: Id(5)] double LoraDropout = 0.0,
    [property: Id(6)] IReadOnlyList<string>? TargetModules = null,
    [property: Id(7)] int BatchPrompts = 8,
    [property: Id(8)] int MicroBatch = 16,
    [property: Id(9)] double WeightDecay = 0.0,
    [property: Id(10)] double MaxGradNorm = 1.0,
    [property: Id(11)] int MaxContextLength = 2048,
    [property: Id(12)] int Trainers = 1,
    [property: Id(13)] int? MaxSteps = null,
    [property: Id(14)] string LrSchedule = "constant");

/// <summary>
/// Rollout sampling (<c>inference:</c>): n samples per prompt at temperature 1 by default.
/// <see cref="ChatTemplateKwargsJson"/> is <c>chat_template_kwargs</c> (a JSON object, e.g.
/// <c>{"enable_thinking": false}</c>) passed to the model's chat template as vLLM's request field of
/// that name is; kept as JSON text so the record stays serializable.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.InferenceSpec")]
public sealed record InferenceSpec(
    [property: Id(0)] int N = 8,
    [property: Id(1)] double Temperature = 1.0,
    [property: Id(2)] double TopP = 1.0,
    [property: Id(3)] int TopK = 0,
    [property: Id(4)] int MaxTokens = 256,
    [property: Id(5)] IReadOnlyList<string>? Stop = null,
    [property: Id(6)] double EvalTemperature = 0.0,
    [property: Id(7)] string ChatTemplateKwargsJson = "{}")
{
    /// <summary>The kwargs as a fresh mapping (template variable → value).</summary>
    public System.Text.Json.Nodes.JsonObject ChatTemplateKwargs() =>
        System.Text.Json.Nodes.JsonNode.Parse(ChatTemplateKwargsJson) as System.Text.Json.Nodes.JsonObject ?? new();
}

/// <summary>
/// The objective (<c>loss:</c>). Null means "the method's default" (README, loss defaults per
/// method): <c>epsilon</c>/<c>epsilon_high</c> by method, <c>recompute_logprobs</c> by the trainer
/// device's dtype, <c>dynamic_sampling</c> on for dapo. <c>overlong_buffer</c> 0 turns DAPO's
/// overlong shaping off.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.LossSpec")]
public sealed record LossSpec(
    [property: Id(0)] string Method = "grpo",
    [property: Id(1)] double KlBeta = 0.0,
    [property: Id(2)] double? Epsilon = null,
    [property: Id(3)] double? EpsilonHigh = null,
    [property: Id(4)] string? ScaleRewards = null,
    [property: Id(5)] int MaxStaleness = 0,
    [property: Id(6)] bool? RecomputeLogProbs = null,
    [property: Id(7)] bool? DynamicSampling = null,
    [property: Id(8)] int MaxResample = 3,
    [property: Id(9)] int OverlongBuffer = 0,
    [property: Id(10)] double OverlongPenalty = 1.0);

/// <summary>Checkpointing (<c>checkpoint:</c>): every N steps, keeping the last <c>keep_last</c> plus the best.</summary>
[GenerateSerializer, Immutable, Alias("rft.CheckpointSpec")]
public sealed record CheckpointSpec(
    [property: Id(0)] int EverySteps = 10,
    [property: Id(1)] bool KeepBest = true,
    [property: Id(2)] int KeepLast = 3);
