using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>
/// Right-padded tensors for a micro-batch. Position t of the target tensors is token t+1 of the
/// sequence, predicted from logits at t: input (B, T), targets/mask/old (B, T−1).
/// </summary>
public sealed class SequenceBatch : IDisposable
{
    public required Tensor Input { get; init; }
    public required Tensor Targets { get; init; }
    public required Tensor Mask { get; init; }
    public required Tensor OldLogProbs { get; init; }
    public required Tensor Advantages { get; init; }

    public static SequenceBatch Build(IReadOnlyList<PolicySample> samples, Device device, int maxLength = int.MaxValue)
    {
        int t = Math.Min(maxLength, samples.Max(s => s.Length));
        int b = samples.Count;
        var ids = new long[b * t];
        var mask = new float[b * (t - 1)];
        var old = new float[b * (t - 1)];
        for (int i = 0; i < b; i++)
        {
            var s = samples[i];
            if (s.BehaviourLogProbs.Length != s.CompletionIds.Length)
                throw new ArgumentException($"sample {i}: {s.CompletionIds.Length} completion tokens but {s.BehaviourLogProbs.Length} behaviour log-probs.");
            int p = s.PromptIds.Length;
            for (int j = 0; j < Math.Min(p, t); j++) ids[i * t + j] = s.PromptIds[j];
            for (int j = 0; j < s.CompletionIds.Length && p + j < t; j++)
            {
                ids[i * t + p + j] = s.CompletionIds[j];
                if (p + j == 0 || (s.CompletionMask is { } cm && !cm[j])) continue;
                int target = i * (t - 1) + p + j - 1;                 // completion token j is predicted at position p+j−1
                mask[target] = 1;
                old[target] = s.BehaviourLogProbs[j];
            }
        }
        return new SequenceBatch
        {
            Input = tensor(ids, new long[] { b, t }, device: device),
            Targets = tensor(ids, new long[] { b, t }, device: device).narrow(1, 1, t - 1),
            Mask = tensor(mask, new long[] { b, t - 1 }, device: device),
            OldLogProbs = tensor(old, new long[] { b, t - 1 }, device: device),
            Advantages = tensor(samples.Select(s => (float)s.Advantage).ToArray(), device: device),
        };
    }

    /// <summary>
    /// Per-target log-probs (B, T−1) of the sequence under the tempered policy softmax(logits / T)
    /// (with grad unless the caller disables it) and, when asked, the per-position entropy of that
    /// distribution. The policy that is trained must be the one that was sampled: rollouts drawn at
    /// temperature T come from softmax(logits / T), so the ratio and its gradient are taken there too
    /// (TRL <c>_get_per_token_logps</c> and veRL <c>logits.div_(temperature)</c> do the same).
    /// </summary>
    public (Tensor LogProbs, Tensor? Entropy) LogProbs(CausalLM network, bool withEntropy, double temperature = 1.0)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), $"the training temperature must be > 0 (got {temperature}).");
        using var scope = NewDisposeScope();
        var input = Input.narrow(1, 0, Input.shape[1] - 1);
        var logits = network.Forward(input);                                  // (B, T−1, V)
        if (temperature != 1.0) logits = logits / temperature;
        var logSoftmax = logits.log_softmax(-1);
        var logp = logSoftmax.gather(-1, Targets.unsqueeze(-1)).squeeze(-1);  // (B, T−1)
        Tensor? entropy = null;
        if (withEntropy)
        {
            using var _ = no_grad();
            entropy = -(logSoftmax.exp() * logSoftmax).sum(-1);               // (B, T−1)
            entropy = entropy.MoveToOuterDisposeScope();
        }
        return (logp.MoveToOuterDisposeScope(), entropy);
    }

    public void Dispose()
    {
        Input.Dispose(); Targets.Dispose(); Mask.Dispose(); OldLogProbs.Dispose(); Advantages.Dispose();
    }
}
