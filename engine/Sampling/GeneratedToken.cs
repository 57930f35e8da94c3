namespace Orleans.Rft.Engine.Sampling;

/// <summary>A token and its log-probability under the model's raw distribution softmax(logits) (T = 1, no truncation), as OpenAI's <c>logprobs</c> report it.</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);

/// <summary>
/// One token as it is sampled, for streaming: its id, its log-probs (under the sampling distribution
/// and under the tempered policy, as in <see cref="GeneratedSequence"/>), the raw-distribution
/// alternatives when asked for (<see cref="SamplingOptions.LogProbs"/>), and the text it completes —
/// empty while the token ends inside a UTF-8 character or may still begin a stop string.
/// </summary>
public sealed record GeneratedToken(int Id, float SampledLogProb, float PolicyLogProb, TokenLogProb? Raw, IReadOnlyList<TokenLogProb>? Top, string TextDelta);
