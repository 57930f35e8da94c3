using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// One sequence to sample on a device of this silo. The caller holds <paramref name="BaseModel"/>
/// (and the adapter folder's lease) for the call. <paramref name="AdapterKey"/> names the adapter's
/// weights (artifact path and policy version): two requests with the same key share the loaded
/// weights; null with no adapter. <see cref="SamplingOptions.Seed"/> is this row's own seed.
/// </summary>
public sealed record SequenceRequest(
    ArtifactLease BaseModel,
    string? AdapterFolder,
    string? AdapterKey,
    int[] PromptIds,
    SamplingOptions Options);

/// <summary>
/// Generation on this silo's devices, shared by the rollout worker grains (training rollouts) and the
/// OpenAI-compatible HTTP endpoint (served requests). Knows nothing of HTTP or of jobs.
/// </summary>
public interface IGenerationService
{
    /// <summary>
    /// Samples one sequence on <paramref name="device"/>. <paramref name="onToken"/>, when given, is
    /// called for every token in order as it is sampled (from the device thread: keep it short, never
    /// block). Cancelling ends the sequence at the next decode step with an
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<GeneratedSequence> GenerateAsync(string device, SequenceRequest request, Action<GeneratedToken>? onToken = null, CancellationToken cancellation = default);

    /// <summary>
    /// Samples several sequences that join the device's batch at the same decode step, so that with
    /// the same rows (and nothing else decoding) every step sees the same batch and a rerun gives
    /// bit-identical log-probs (training rollouts after a restart). In the order given.
    /// </summary>
    async Task<GeneratedSequence[]> GenerateManyAsync(string device, IReadOnlyList<SequenceRequest> requests, CancellationToken cancellation = default) =>
        await Task.WhenAll(requests.Select(r => GenerateAsync(device, r, null, cancellation)));
}
