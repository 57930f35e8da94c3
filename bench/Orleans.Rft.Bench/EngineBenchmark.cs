using System.Diagnostics;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using static TorchSharp.torch;

namespace Orleans.Rft.Bench;

/// <summary>Figures of one preset: generation tokens/s by batch size and training tokens/s.</summary>
public sealed record EngineFigures(string Preset, long Parameters, IReadOnlyDictionary<int, double> GenerationTokensPerSecond, double TrainingTokensPerSecond);

/// <summary>
/// The engine's throughput on a randomly initialised preset with a rank-8 LoRA on every projection,
/// in the shapes of the peer (bench/peer/llama_peer.py): 32-token prompts and 64 new tokens for
/// generation, 16 sequences of 128 tokens for one training step. Each figure is the median of
/// <c>repeats</c> runs after one warm-up.
/// </summary>
public static class EngineBenchmark
{
    public const int PromptTokens = 32, NewTokens = 64, TrainSequences = 16, TrainLength = 128;

    public static EngineFigures Run(string preset, IReadOnlyList<int> batches, int repeats)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-bench", preset);
        using var model = TinyModelPresets.Create(preset, dir, seed: 0);
        model.AttachLora(new LoraConfig(Rank: 8, Alpha: 16));
        var rng = new Random(0);
        var generation = new Dictionary<int, double>();
        foreach (var b in batches)
        {
            var prompts = Enumerable.Range(0, b).Select(_ => Enumerable.Range(0, PromptTokens).Select(_ => rng.Next(256)).ToArray()).ToList();
            var options = new SamplingOptions(Temperature: 1.0, MaxTokens: NewTokens, Seed: 1, IgnoreEos: true);
            var seconds = Median(() => Sampler.Generate(model, prompts, options), repeats);
            generation[b] = b * NewTokens / seconds;
        }
        var trainer = new PolicyTrainer(model, new TrainerOptions(new LearningRateSchedule(1e-4), new LossOptions(), MicroBatch: TrainSequences));
        var batch = Enumerable.Range(0, TrainSequences).Select(_ =>
        {
            var ids = Enumerable.Range(0, TrainLength).Select(_ => rng.Next(256)).ToArray();
            return new PolicySample(ids[..PromptTokens], ids[PromptTokens..], new float[TrainLength - PromptTokens], rng.NextDouble() - 0.5);
        }).ToList();
        var trainSeconds = Median(() => trainer.Step(batch), repeats);
        // tokens whose log-prob is computed: every position after the first, as the peer counts them
        var training = TrainSequences * (TrainLength - 1) / trainSeconds;
        return new EngineFigures(preset, model.Config.ParameterCount, generation, training);
    }

    /// <summary>
    /// float32 matmul GFLOP/s of 2048² × 2048² on this machine: the ceiling MFU is measured against.
    /// Three products warm the threads and caches first; the figure is the median of
    /// <paramref name="products"/> timed ones, so one descheduled product on a shared machine moves
    /// neither it nor the MFU. Callers take it more than once in the same run (before and after the
    /// engine figures) and divide by the highest, so a ceiling read at a noisy moment can only make
    /// the MFU look lower, never above 100 %.
    /// </summary>
    public static double MatmulGflops(int products = 9)
    {
        const int n = 2048;
        using var a = randn(n, n);
        using var b = randn(n, n);
        for (int i = 0; i < 2; i++) { using var w = a.matmul(b); }
        var seconds = Median(() => { using var c = a.matmul(b); }, products);
        return 2.0 * n * n * n / seconds / 1e9;
    }

    static double Median(Action action, int repeats)
    {
        // Warm up for at least two runs and a second: the JIT recompiles hot methods at tier 1 on a
        // background thread after their 30th call, and on two cores that thread would take one from
        // the first timed runs (the first preset's batch-1 figure read up to 2× low without this).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 2 || warm.Elapsed < TimeSpan.FromSeconds(1); i++) action();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
