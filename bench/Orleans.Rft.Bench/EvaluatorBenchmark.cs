using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;

namespace Orleans.Rft.Bench;

/// <summary>
/// Evaluations per second of the python evaluator on the arithmetic example's reward.py (1 and 4 warm
/// workers) beside the built-in it replaces, fed as a job feeds it: 8 callers at once
/// (JobStepRunner.MaxEvaluatorCallsInFlight), each item through EvaluatorRunner with the job's timeout.
/// </summary>
public static class EvaluatorBenchmark
{
    /// <param name="Seconds">through EvaluatorRunner, as a job scores (with its deadline per item)</param>
    /// <param name="DirectSeconds">calling the evaluator directly: the evaluator's own cost</param>
    public sealed record Figure(string Evaluator, int Workers, int Evaluations, double Seconds, double DirectSeconds)
    {
        public double PerSecond => Evaluations / Seconds;
        public double DirectPerSecond => Evaluations / DirectSeconds;
    }

    public static List<Figure> Run(string repoRoot, int evaluations, int callers = 8)
    {
        var example = Path.Combine(repoRoot, "examples", "arithmetic");
        var rows = File.ReadLines(Path.Combine(example, "test.jsonl")).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        // what the policy writes: the answer, a near miss, text
        var inputs = Enumerable.Range(0, evaluations).Select(i =>
        {
            var row = rows[i % rows.Count];
            var truth = row["ground_truth"]!.GetValue<string>();
            var completion = (i % 3) switch { 0 => truth, 1 => (int.Parse(truth) + 1).ToString(), _ => "The answer" };
            return new EvaluationInput(completion, row["ground_truth"]!.DeepClone(), row);
        }).ToList();
        var figures = new List<Figure>();
        foreach (var (name, spec) in new[]
        {
            ("numeric (built-in)", """{"type":"numeric","extract":"full"}"""),
            ("python, 1 worker", """{"type":"python","path":"reward.py","workers":1}"""),
            ("python, 4 workers", """{"type":"python","path":"reward.py","workers":4}"""),
        })
        {
            var evaluator = EvaluatorFactory.Create(JsonNode.Parse(spec)!.AsObject(), "evaluator", example);
            try
            {
                Score(evaluator, inputs.Take(callers * 4).ToList(), callers, runner: true); // warm: workers started, code jitted
                var clock = Stopwatch.StartNew();
                var invalid = Score(evaluator, inputs, callers, runner: true);
                var viaRunner = clock.Elapsed.TotalSeconds;
                clock.Restart();
                invalid += Score(evaluator, inputs, callers, runner: false);
                if (invalid > 0) throw new InvalidOperationException($"{name}: {invalid} invalid results; the benchmark measures scoring, not failures");
                figures.Add(new Figure(name, spec.Contains("\"workers\":4") ? 4 : spec.Contains("python") ? 1 : 0, inputs.Count, viaRunner, clock.Elapsed.TotalSeconds));
            }
            finally { (evaluator as IDisposable)?.Dispose(); }
        }
        return figures;
    }

    /// <returns>the number of invalid results</returns>
    static int Score(IEvaluator evaluator, List<EvaluationInput> inputs, int callers, bool runner)
    {
        int next = -1, invalid = 0;
        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < inputs.Count;)
            {
                var result = runner ? await EvaluatorRunner.RunAsync(evaluator, inputs[i], TimeSpan.FromSeconds(30)) : await evaluator.EvaluateAsync(inputs[i], CancellationToken.None);
                if (!result.IsScoreValid) Interlocked.Increment(ref invalid);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        return invalid;
    }
}
