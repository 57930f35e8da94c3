namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// What a rollout worker should sample: rendered by the model's chat template on the worker. Sample
/// row j of the request (prompt j / N, sample j % N) draws from its own generator seeded with
/// <c>SamplingOptions.RowSeed(Seed, FirstRow + j)</c>: a job that numbers its rows across requests
/// gets the same samples however its rows were split into requests or merged into batches.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.GenerateRequest")]
public sealed record GenerateRequest(
    [property: Id(0)] string BaseModel,
    [property: Id(1)] string? AdapterPath,
    [property: Id(2)] int AdapterVersion,
    [property: Id(3)] string[] PromptsJson,
    [property: Id(4)] int N,
    [property: Id(5)] double Temperature,
    [property: Id(6)] double TopP,
    [property: Id(7)] int TopK,
    [property: Id(8)] int MaxTokens,
    [property: Id(9)] string[] Stop,
    [property: Id(10)] long Seed,
    [property: Id(11)] int FirstRow = 0,
    [property: Id(12)] string ChatTemplateKwargsJson = "{}",
    [property: Id(13)] string? AgentJson = null,
    [property: Id(14)] string JobId = "",
    [property: Id(15)] int Step = 0,
    [property: Id(16)] int MaxContextTokens = 2048);

/// <summary>
/// One sampled completion with what the trainer needs from it. For an agent rollout the ids are its
/// first merged sequence (<see cref="Mask"/> true on the model's own tokens, false on inserted tool
/// and user tokens, whose log-probs are 0), <see cref="Extra"/> its further sequences, <see cref="Text"/>
/// the final answer and <see cref="Agent"/> what happened.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.GeneratedCompletion")]
public sealed record GeneratedCompletion(
    [property: Id(0)] int[] PromptIds,
    [property: Id(1)] int[] CompletionIds,
    [property: Id(2)] float[] LogProbs,
    [property: Id(3)] string Text,
    [property: Id(4)] string FinishReason,
    [property: Id(5)] bool[]? Mask = null,
    [property: Id(6)] TrajectorySegment[]? Extra = null,
    [property: Id(7)] AgentReport? Agent = null);

/// <summary>
/// An answer, or one page of it. On the wire a completion's <see cref="GeneratedCompletion.PromptIds"/>
/// is empty: the prompt's ids cross once per prompt, in <see cref="PromptIds"/> of the page holding
/// the prompt's first sample. An answer larger than <see cref="MessageLimits.MaxChunkBytes"/> comes as
/// pages: completions [<see cref="FirstCompletion"/>, +Completions.Length) of <see cref="TotalCompletions"/>,
/// the next page fetched with <see cref="IRolloutWorkerGrain.NextPage"/>(<see cref="Continuation"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.GenerateResult")]
public sealed record GenerateResult(
    [property: Id(0)] GeneratedCompletion[] Completions,
    [property: Id(1)] int PolicyVersion,
    [property: Id(2)] double EngineSeconds,
    [property: Id(3)] int[][]? PromptIds = null,
    [property: Id(4)] int FirstCompletion = 0,
    [property: Id(5)] int TotalCompletions = 0,
    [property: Id(6)] string? Continuation = null);

/// <summary>
/// Generation on one device of one silo (key <c>{silo}|{device}</c>, placed on that silo). Holds no
/// weights itself; concurrent requests for the same policy are batched into one forward.
/// </summary>
public interface IRolloutWorkerGrain : IGrainWithStringKey
{
    /// <summary>Samples the request; returns the whole answer or its first page (see <see cref="GenerateResult"/>).</summary>
    [ResponseTimeout("00:10:00")]
    Task<GenerateResult> Generate(GenerateRequest request);

    /// <summary>The page a previous page's <see cref="GenerateResult.Continuation"/> names (idempotent; kept 10 minutes).</summary>
    [ResponseTimeout("00:01:00")]
    Task<GenerateResult> NextPage(string continuation);
}
