using System.Text;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// The live view of a job: one line per finished step (reward, eval reward, tokens/s, ETA, and a
/// sparkline of the reward so far), and a reward chart at the end. Plain lines rather than a
/// redrawn screen, so it reads the same in a terminal, a log file and CI.
/// </summary>
public sealed class JobDisplay(TextWriter output)
{
    const string Bars = "▁▂▃▄▅▆▇█";
    int shown;

    public static async Task<JobSnapshot> Follow(IJobGrain job, TextWriter output, bool json, CancellationToken cancellation)
    {
        var display = new JobDisplay(output);
        JobSnapshot snapshot;
        var started = DateTime.UtcNow;
        do
        {
            snapshot = await job.GetSnapshot().WaitAsync(TimeSpan.FromSeconds(30), cancellation);
            var history = await job.GetHistory(display.shown + 1).WaitAsync(TimeSpan.FromSeconds(30), cancellation);
            if (!json) display.Show(snapshot, history, DateTime.UtcNow - started);
            if (snapshot.Status.IsFinal()) break;
            await Task.Delay(500, cancellation);
        } while (true);
        return snapshot;
    }

    readonly List<double> rewards = new();

    public void Show(JobSnapshot s, IReadOnlyList<StepMetrics> newSteps, TimeSpan elapsed)
    {
        if (shown == 0 && newSteps.Count == 0) return;
        if (shown == 0 && s.BaselineEvalReward is double b) output.WriteLine($"base model eval reward {b:F3}");
        foreach (var m in newSteps)
        {
            rewards.Add(m.RewardMean);
            shown = m.Step;
            var perStep = elapsed.TotalSeconds / Math.Max(1, m.Step);
            var eta = TimeSpan.FromSeconds(perStep * Math.Max(0, s.TotalSteps - m.Step));
            var eval = m.EvalRewardMean is double e ? $" eval {e:F3}" : "";
            output.WriteLine($"step {m.Step,4}/{s.TotalSteps}  reward {m.RewardMean:F3}±{m.RewardStd:F2}{eval}  valid {m.ValidFraction:P0}  " +
                $"kl {m.Kl:F4}  clip {m.ClipFraction:P0}  gen {m.RolloutTokensPerSecond:F0} tok/s  train {m.TrainTokensPerSecond:F0} tok/s  " +
                $"{m.StepSeconds:F1}s/step  ETA {eta:hh\\:mm\\:ss}  {Sparkline(rewards, 40)}{Details(m)}");
        }
    }

    /// <summary>What only some jobs have, shown only when it happened: agents' calls and failures, the context window's cuts.</summary>
    public static string Details(StepMetrics m)
    {
        var sb = new StringBuilder();
        if (m.AgentRollouts > 0)
        {
            sb.Append($"  agent calls {m.AgentModelCallsMean:F1} tools {m.AgentToolCallsMean:F1}");
            if (m.AgentToolErrors > 0) sb.Append($" tool errors {m.AgentToolErrors}");
            if (m.ExtraSamples > 0) sb.Append($" extra samples {m.ExtraSamples}");
            if (m.AgentFailed > 0)
                sb.Append($" failed {m.AgentFailed} ({string.Join(", ", m.AgentFailures!.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"))})");
        }
        if (m.ContextTruncatedSamples > 0)
            sb.Append($"  context cut {m.ContextTruncatedSamples} seq / {m.ContextTruncatedTokens} tok ({m.ContextTruncatedTrainableTokens} trainable)");
        return sb.ToString();
    }

    public static string Sparkline(IReadOnlyList<double> values, int width)
    {
        if (values.Count == 0) return "";
        var tail = values.Skip(Math.Max(0, values.Count - width)).ToList();
        return string.Concat(tail.Select(v => Bars[(int)Math.Clamp(Math.Round(v * (Bars.Length - 1)), 0, Bars.Length - 1)]));
    }

    /// <summary>A rows × width chart of the reward (0..1 on the y axis), step on the x axis.</summary>
    public static string Chart(IReadOnlyList<StepMetrics> history, int width = 60, int rows = 8)
    {
        if (history.Count == 0) return "";
        var buckets = Enumerable.Range(0, Math.Min(width, history.Count))
            .Select(i => history.Skip(i * history.Count / Math.Min(width, history.Count)).Take(Math.Max(1, history.Count / Math.Min(width, history.Count))).Average(h => h.RewardMean))
            .ToList();
        var sb = new StringBuilder();
        for (int r = rows; r >= 1; r--)
        {
            double level = (double)r / rows;
            sb.Append(r == rows ? "1.0 ┤" : r == rows / 2 ? "0.5 ┤" : "    │");
            foreach (var v in buckets) sb.Append(v >= level - 0.5 / rows ? '█' : ' ');
            sb.AppendLine();
        }
        sb.Append("0.0 └").Append(new string('─', buckets.Count)).AppendLine($" step {history[^1].Step}");
        return sb.ToString();
    }
}
