using Orleans.Rft.Engine.Lora;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// One sequence for <see cref="ContinuousBatcher"/>: its prompt, its own sampling options (OpenAI
/// semantics, <see cref="SamplingOptions"/>), the seed of its draws (null = a random one; with the same
/// seed the same tokens, whatever shares the batch), the adapter it samples with (null = the base), a
/// callback per token (called on the device thread: keep it short, never block) and a cancellation.
/// <see cref="SamplingOptions.Seed"/> and <see cref="SamplingOptions.RowSeeds"/> are not read here.
/// </summary>
public sealed record SequenceSubmission(
    int[] PromptIds,
    SamplingOptions Options,
    long? Seed = null,
    LoraWeights? Adapter = null,
    Action<GeneratedToken>? OnToken = null,
    CancellationToken Cancellation = default);

/// <summary>A submitted sequence: its result when it ends (never completed on the device thread's stack), and a way to end it early.</summary>
public sealed class SequenceHandle
{
    readonly TaskCompletionSource<GeneratedSequence> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    volatile bool cancelled;

    internal SequenceHandle(SequenceSubmission submission, long seed)
    {
        Submission = submission;
        Seed = seed;
    }

    public SequenceSubmission Submission { get; }
    /// <summary>The seed its draws use (the given one, or the random one chosen for it).</summary>
    public long Seed { get; }
    /// <summary>The sequence when it ends; cancelled (<see cref="OperationCanceledException"/>) when <see cref="Cancel"/> or the token ended it.</summary>
    public Task<GeneratedSequence> Completion => done.Task;
    /// <summary>Decode steps (of the scheduler's own count) at which it was admitted and sampled its first token; −1 until then.</summary>
    public long FirstTokenStep { get; internal set; } = -1;

    /// <summary>Ends the sequence at the next step (its row leaves the batch).</summary>
    public void Cancel() => cancelled = true;

    internal bool IsCancelled => cancelled || Submission.Cancellation.IsCancellationRequested;
    internal void Complete(GeneratedSequence s) => done.TrySetResult(s);
    internal void Fail(Exception e) => done.TrySetException(e);
    internal void Cancelled() => done.TrySetCanceled(Submission.Cancellation.IsCancellationRequested ? Submission.Cancellation : new CancellationToken(true));
}
