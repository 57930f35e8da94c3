using Orleans.Rft.Grains.Jobs.Spec;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft evaluator test JOB.yaml [--rows K] [--completions FILE]</c>: score base-model samples of a few
/// rows (or completions given in a file, with no model loaded) with the job's evaluator — the check
/// users make before paying for training: is the reward sane, is there variance within a group, is it
/// fast enough? Exit 0 when it ran (invalid scores included), 2 when the evaluator cannot load.
/// </summary>
public static class EvaluatorTestCommand
{
    /// <summary>Per-call limit, the same as in a job.</summary>
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(Grains.Jobs.JobStepRunner.EvaluatorTimeoutSeconds);

    /// <summary>One scored sample: where it came from, what the evaluator said, how long it took.</summary>
    sealed record Scored(int Line, int Sample, string Completion, EvaluationResult Result, TimeSpan Duration);

    /// <summary>What is scored: a completion, or an agent's trajectory (messages after the prompt) with the score it reported.</summary>
    sealed record Candidate(string Text, JsonArray? Trajectory = null, double? ReportedScore = null, string? ReportedReason = null);

    public static Command Create()
    {
        var file = new Argument<string>("JOB");
        var rows = new Option<int>("--rows") { DefaultValueFactory = _ => 4, Description = "dataset rows to sample (ignored with --completions)" };
        var completions = new Option<string?>("--completions")
        {
            Description = "JSONL of {\"line\": N, \"completion\": \"…\"}, {\"line\": N, \"completions\": [...]} or an agent's {\"line\": N, \"trajectory\": [messages], \"reported_score\": x}, N a dataset line: score these instead of sampling the base model",
        };
        var test = new Command("test", "score base-model samples of a few rows with the job's evaluator") { file, rows, completions };
        test.SetAction(async (p, c) =>
        {
            var spec = JobSpecParser.Parse(p.GetValue(file)!);
            var evaluator = EvaluatorFactory.Create(JsonNode.Parse(spec.EvaluatorJson)!.AsObject(), "evaluator", spec.BaseDirectory,
                ClusterEndpoint.None("rft evaluator test runs outside the cluster, with no endpoint of its own"));
            try
            {
                var dataset = JsonlDataset.ReadOrThrow(spec.Dataset);
                var groups = p.GetValue(completions) is string given
                    ? ReadCompletions(given, dataset)
                    : Sample(spec, dataset.Take(Math.Max(1, p.GetValue(rows))).ToList());
                var scored = new List<Scored>();
                foreach (var (row, texts) in groups) scored.AddRange(await Score(evaluator, row, texts, c));
                Report(scored, groups.Count, p.GetValue(Cli.Json));
            }
            finally { (evaluator as IDisposable)?.Dispose(); }
            return Cli.Ok;
        });
        var command = new Command("evaluator", "check a job's reward before training");
        command.Add(test);
        return command;
    }

    /// <summary>n samples of each row from the base model, with the job's inference settings and seed.</summary>
    static List<(DatasetRow Row, List<Candidate> Texts)> Sample(JobSpec spec, List<DatasetRow> data)
    {
        using var model = LanguageModel.Load(spec.BaseModel, ComputeDevice.Parse("auto"));
        var n = spec.Inference.N;
        var kwargs = spec.Inference.ChatTemplateKwargs(); // rendered as the job renders them
        var prompts = data.SelectMany(r => Enumerable.Repeat(model.Template.Encode(model.Tokenizer, r.PromptMessages, r.Tools, kwargs: kwargs).Ids, n)).ToList();
        var samples = Sampler.Generate(model, prompts, new SamplingOptions(spec.Inference.Temperature, spec.Inference.TopP, spec.Inference.TopK,
            spec.Inference.MaxTokens, spec.Inference.Stop, null, spec.Seed));
        return data.Select((row, i) => (row, samples.Skip(i * n).Take(n).Select(s => new Candidate(s.Text)).ToList())).ToList();
    }

    /// <summary>Completions (or agent trajectories) from a file, grouped by the dataset line they answer (file order kept).</summary>
    static List<(DatasetRow Row, List<Candidate> Texts)> ReadCompletions(string path, IReadOnlyList<DatasetRow> dataset)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--completions: '{path}' does not exist.");
        var byLine = dataset.ToDictionary(r => r.Line);
        var groups = new List<(DatasetRow Row, List<Candidate> Texts)>();
        int number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (text.Trim().Length == 0) continue;
            string Where(string what) => $"{path}:{number}: {what}";
            JsonObject o;
            try { o = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException(Where("each line must be a JSON object.")); }
            catch (System.Text.Json.JsonException e) { throw new InvalidDataException(Where($"not JSON ({e.Message}).")); }
            if (o["line"] is not JsonValue l || !l.TryGetValue<int>(out var line) || !byLine.TryGetValue(line, out var row))
                throw new InvalidDataException(Where($"'line' must be a line number of the job's dataset ({string.Join(", ", byLine.Keys.Take(5))}, …)."));
            var texts = o["trajectory"] is JsonNode t ? [Trajectory(t, o, Where)]
                : o["completions"] is JsonArray a ? a.Select(x => new Candidate(x?.GetValue<string>() ?? "")).ToList()
                : o["completion"] is JsonValue v && v.TryGetValue<string>(out var s) ? [new Candidate(s)]
                : throw new InvalidDataException(Where("give 'completion' (a string), 'completions' (a list of strings) or 'trajectory' (an agent's messages after the prompt)."));
            var existing = groups.FindIndex(g => g.Row.Line == line);
            if (existing >= 0) groups[existing].Texts.AddRange(texts); else groups.Add((row, texts));
        }
        if (groups.Count == 0) throw new InvalidDataException($"--completions: '{path}' has no completions.");
        return groups;
    }

    /// <summary>
    /// An agent rollout as the job would score it: its messages after the prompt, its final answer (the
    /// last assistant message's text unless 'completion' is given) and the score it reported, if any.
    /// </summary>
    static Candidate Trajectory(JsonNode node, JsonObject line, Func<string, string> where)
    {
        if (node is not JsonArray messages || messages.Any(m => m is not JsonObject))
            throw new InvalidDataException(where("'trajectory' must be a list of messages (OpenAI format), what the agent added after the prompt."));
        double? reported = line["reported_score"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<double>(out var d) => d,
            _ => throw new InvalidDataException(where("'reported_score' must be a number.")),
        };
        var final = line["completion"] is JsonValue c && c.TryGetValue<string>(out var given) ? given
            : messages.LastOrDefault(m => m?["role"] is JsonValue r && r.TryGetValue<string>(out var role) && role == "assistant")?["content"] is JsonValue content
              && content.TryGetValue<string>(out var text) ? text : "";
        var reason = line["reported_reason"] is JsonValue rr && rr.TryGetValue<string>(out var why) ? why : null;
        return new Candidate(final, messages.DeepClone().AsArray(), reported, reason);
    }

    /// <summary>One row's samples: together for a groupwise evaluator (each sample shows the group's time), else one call each.</summary>
    static async Task<List<Scored>> Score(IEvaluator evaluator, DatasetRow row, List<Candidate> candidates, CancellationToken cancellation)
    {
        var texts = candidates.Select(c => c.Text).ToList();
        var inputs = candidates.Select(c => new EvaluationInput(c.Text, row.GroundTruth, row.Raw, c.Trajectory, c.ReportedScore, c.ReportedReason)).ToList();
        var clock = Stopwatch.StartNew();
        if (evaluator is IGroupEvaluator { Groupwise: true } group)
        {
            IReadOnlyList<EvaluationResult> results;
            try { results = await EvaluatorRunner.RunGroupAsync(group, inputs, CallTimeout, cancellation); }
            catch (TimeoutException e) { results = inputs.Select(_ => EvaluationResult.Invalid(e.Message)).ToList(); }
            return results.Select((r, k) => new Scored(row.Line, k, texts[k], r, clock.Elapsed)).ToList();
        }
        var scored = new List<Scored>();
        for (int k = 0; k < inputs.Count; k++)
        {
            clock.Restart();
            EvaluationResult r;
            try { r = await EvaluatorRunner.RunAsync(evaluator, inputs[k], CallTimeout, cancellation); }
            catch (TimeoutException e) { r = EvaluationResult.Invalid(e.Message); }
            scored.Add(new Scored(row.Line, k, texts[k], r, clock.Elapsed));
        }
        return scored;
    }

    static void Report(List<Scored> scored, int groups, bool json)
    {
        var valid = scored.Where(s => s.Result.IsScoreValid).ToList();
        var mean = valid.Count > 0 ? valid.Average(s => s.Result.Score) : 0;
        var invalidReasons = scored.Where(s => !s.Result.IsScoreValid).GroupBy(s => s.Result.Reason).OrderByDescending(g => g.Count()).ToList();
        var flat = scored.GroupBy(s => s.Line).Count(g => g.Where(s => s.Result.IsScoreValid).Select(s => s.Result.Score).Distinct().Count() == 1 && g.Count(s => s.Result.IsScoreValid) > 1);
        var slowest = scored.MaxBy(s => s.Duration)!;
        if (json)
        {
            Cli.PrintJson(new JsonObject
            {
                ["reward_mean"] = mean, ["valid"] = valid.Count, ["invalid"] = scored.Count - valid.Count,
                ["invalid_reasons"] = new JsonObject(invalidReasons.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
                ["zero_variance_groups"] = flat, ["groups"] = groups,
                ["slowest"] = new JsonObject { ["line"] = slowest.Line, ["sample"] = slowest.Sample, ["ms"] = Math.Round(slowest.Duration.TotalMilliseconds, 1) },
                ["samples"] = new JsonArray(scored.Select(s => (JsonNode?)new JsonObject
                {
                    ["line"] = s.Line, ["sample"] = s.Sample, ["completion"] = s.Completion, ["ms"] = Math.Round(s.Duration.TotalMilliseconds, 1), ["result"] = s.Result.ToJson(),
                }).ToArray()),
            });
            return;
        }
        foreach (var row in scored.GroupBy(s => s.Line))
        {
            Console.WriteLine($"── row {row.Key}");
            foreach (var s in row)
            {
                var metrics = s.Result.Metrics is { Count: > 0 } m ? "  [" + string.Join(", ", m.Select(kv => $"{kv.Key}={(kv.Value.IsScoreValid ? kv.Value.Score.ToString("G3") : "invalid")}")) + "]" : "";
                Console.WriteLine($"   {(s.Result.IsScoreValid ? s.Result.Score.ToString("F3") : "INVALID"),7} {s.Duration.TotalMilliseconds,8:F1} ms  {Short(s.Completion),-40}  {s.Result.Reason}{metrics}");
            }
        }
        Console.WriteLine($"mean reward {mean:F3} over {valid.Count} valid samples; {scored.Count - valid.Count} invalid; {flat}/{groups} groups with no reward variance; slowest call {slowest.Duration.TotalMilliseconds:F1} ms (row {slowest.Line}, sample {slowest.Sample})");
        foreach (var g in invalidReasons.Take(5)) Console.WriteLine($"   invalid ×{g.Count()}: {g.Key}");
        if (flat == groups && groups > 0) Console.WriteLine("warning: every group has identical rewards, so GRPO advantages are all zero; make the reward graded or the task easier.");
    }

    static string Short(string s) => (s.Length > 40 ? s[..39] + "…" : s).Replace("\n", "⏎");
}
