namespace Orleans.Rft.GrainInterfaces;

/// <summary>What a rollout worker should sample: rendered by the model's chat template on the worker.</summary>
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
    [property: Id(10)] long Seed);

/// <summary>One sampled completion with what the trainer needs from it.</summary>
[GenerateSerializer, Immutable, Alias("rft.GeneratedCompletion")]
public sealed record GeneratedCompletion(
    [property: Id(0)] int[] PromptIds,
    [property: Id(1)] int[] CompletionIds,
    [property: Id(2)] float[] LogProbs,
    [property: Id(3)] string Text,
    [property: Id(4)] string FinishReason);

[GenerateSerializer, Immutable, Alias("rft.GenerateResult")]
public sealed record GenerateResult(
    [property: Id(0)] GeneratedCompletion[] Completions,
    [property: Id(1)] int PolicyVersion,
    [property: Id(2)] double EngineSeconds);

/// <summary>
/// Generation on one device of one silo (key <c>{silo}|{device}</c>, placed on that silo). Holds no
/// weights itself; concurrent requests for the same policy are batched into one forward.
/// </summary>
public interface IRolloutWorkerGrain : IGrainWithStringKey
{
    [ResponseTimeout("00:10:00")]
    Task<GenerateResult> Generate(GenerateRequest request);
}
