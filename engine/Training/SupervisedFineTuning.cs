using TorchSharp;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>Settings of the supervised warm start.</summary>
public sealed record SftOptions(int Steps = 300, int BatchSize = 32, double LearningRate = 3e-3, int WarmupSteps = 20, double WeightDecay = 0.0, long Seed = 0, double MaxGradNorm = 1.0, string Schedule = "cosine");

/// <summary>
/// Supervised warm start: next-token cross-entropy on the assistant tokens of chat examples
/// (<see cref="EncodedChat.TrainableMask"/>), all base weights trainable, AdamW with warm-up then
/// cosine decay (or a constant rate). Used to give the tiny models a task prior before reinforcement learning.
/// </summary>
public static class SupervisedFineTuning
{
    public static IReadOnlyList<double> Run(LanguageModel model, IReadOnlyList<EncodedChat> examples, SftOptions o, Action<int, double>? progress = null)
    {
        if (examples.Count == 0) throw new ArgumentException("no training examples.");
        var net = model.Network;
        var parameters = net.BaseParameters().Select(p => p.Tensor).ToList();
        foreach (var p in parameters) p.requires_grad = true;
        var schedule = new LearningRateSchedule(o.LearningRate, o.WarmupSteps, o.Steps, o.Schedule, 0.1);
        schedule.Validate();
        using var optimizer = optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay);
        var random = new Random((int)o.Seed);
        var losses = new List<double>();
        net.train();
        try
        {
            for (int step = 0; step < o.Steps; step++)
            {
                using var scope = NewDisposeScope();
                var batch = Enumerable.Range(0, o.BatchSize).Select(_ => examples[random.Next(examples.Count)]).ToList();
                var samples = batch.Select(e => new PolicySample([], e.Ids, new float[e.Ids.Length], 0, e.TrainableMask)).ToList();
                using var tensors = SequenceBatch.Build(samples, net.Device, model.Config.MaxPositionEmbeddings);
                var (logp, _) = tensors.LogProbs(net, withEntropy: false);
                var loss = -(logp * tensors.Mask).sum() / tensors.Mask.sum().clamp_min(1);
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, o.MaxGradNorm);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = schedule.At(step);
                optimizer.step();
                var value = loss.ToDouble();
                losses.Add(value);
                progress?.Invoke(step, value);
            }
        }
        finally
        {
            net.eval();
            foreach (var p in parameters) { p.requires_grad = false; p.grad?.Dispose(); }
        }
        return losses;
    }
}
