using System.Diagnostics;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using static TorchSharp.torch;

namespace Orleans.Rft.Bench;

/// <summary>
/// Pure decode figures of one preset by batch size (no sampling): tokens per wall-clock second, and
/// tokens per second of this process's CPU time. On a machine shared with other work the second
/// moves far less than the first when run with one thread (no thread waits for a descheduled
/// partner), so it is the figure to compare two builds by; the first is the throughput.
/// </summary>
public sealed record DecodeFigures(string Preset, long Parameters, IReadOnlyDictionary<int, double> TokensPerSecond, IReadOnlyDictionary<int, double> TokensPerCpuSecond);

/// <summary>
/// The model forward alone, without the sampler: a 32-token prompt is prefilled into a
/// <see cref="KvCache"/>, then <see cref="NewTokens"/> decode steps of
/// <c>CausalLM.Forward(ids (B, 1), positions (B, 1), mask (B, 1, 1, Tk), cache, lastOnly)</c> are timed.
/// Every input of a step is made before the clock starts (the mask is a view of one all-true
/// tensor), so the figure is what the model costs per token and nothing else; the logits of the
/// last step are read back once so the timing covers all the queued work. Same preset, LoRA
/// (rank 8 on every projection) and shapes as <see cref="EngineBenchmark"/>.
/// </summary>
public static class DecodeBenchmark
{
    public const int PromptTokens = EngineBenchmark.PromptTokens, NewTokens = EngineBenchmark.NewTokens;

    /// <param name="lora">false: the base model alone, which shows what the adapter terms cost per token</param>
    public static DecodeFigures Run(string preset, IReadOnlyList<int> batches, int repeats, bool lora = true)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-bench", preset);
        using var model = TinyModelPresets.Create(preset, dir, seed: 0);
        if (lora) model.AttachLora(new LoraConfig(Rank: 8, Alpha: 16));
        var net = model.Network;
        var c = net.Config;
        var figures = new Dictionary<int, double>();
        var cpuFigures = new Dictionary<int, double>();
        using var noGrad = no_grad();
        foreach (var b in batches)
        {
            using var scope = NewDisposeScope();
            var capacity = PromptTokens + NewTokens;
            var prompt = randint(0, 256, [b, PromptTokens], dtype: ScalarType.Int64, device: net.Device);
            var promptPositions = arange(PromptTokens, ScalarType.Int64, net.Device).unsqueeze(0).expand(b, -1);
            var ids = randint(0, 256, [b, 1], dtype: ScalarType.Int64, device: net.Device);
            var positions = Enumerable.Range(0, NewTokens).Select(s => full([b, 1], PromptTokens + s, ScalarType.Int64, net.Device)).ToArray();
            var allTrue = ones([b, 1, 1, capacity], ScalarType.Bool, net.Device);
            (double Wall, double Cpu) Once()
            {
                using var cache = new KvCache(c.NumHiddenLayers, b, c.NumKeyValueHeads, capacity, c.HeadDim, net.DType, net.Device);
                using (var inner = NewDisposeScope()) net.Forward(prompt, promptPositions, null, cache, lastOnly: true);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                Tensor? last = null;
                for (int s = 0; s < NewTokens; s++)
                {
                    using var inner = NewDisposeScope();
                    var mask = allTrue.narrow(3, 0, PromptTokens + s + 1);
                    last?.Dispose();
                    last = net.Forward(ids, positions[s], mask, cache, lastOnly: true).DetachFromDisposeScope();
                }
                _ = last!.sum().item<float>();   // waits for the device (a no-op on the CPU, where every op is synchronous)
                var seconds = watch.Elapsed.TotalSeconds;
                var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                last.Dispose();
                return (seconds, cpuSeconds);
            }
            Once();
            var runs = Enumerable.Range(0, repeats).Select(_ => Once()).ToList();
            figures[b] = b * NewTokens / runs.Select(r => r.Wall).Order().ElementAt(repeats / 2);
            cpuFigures[b] = b * NewTokens / runs.Select(r => r.Cpu).Order().ElementAt(repeats / 2);
        }
        return new DecodeFigures(preset, c.ParameterCount, figures, cpuFigures);
    }
}
