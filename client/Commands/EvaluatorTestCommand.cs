using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Evaluators;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft evaluator test JOB.yaml [--rows K]</c>: sample the base model on a few rows with the job's
/// inference settings and score them with the job's evaluator — the check users make before paying
/// for training (is the reward sane, is there variance within a group?).
/// </summary>
public static class EvaluatorTestCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("JOB");
        var rows = new Option<int>("--rows") { DefaultValueFactory = _ => 4 };
        var test = new Command("test", "score base-model samples of a few rows with the job's evaluator") { file, rows };
        test.SetAction(async (p, c) =>
        {
            var spec = JobSpecParser.Parse(p.GetValue(file)!);
            var evaluator = EvaluatorFactory.Create(JsonNode.Parse(spec.EvaluatorJson)!.AsObject(), "evaluator", spec.BaseDirectory);
            var data = JsonlDataset.ReadOrThrow(spec.Dataset).Take(Math.Max(1, p.GetValue(rows))).ToList();
            using var model = LanguageModel.Load(spec.BaseModel, ComputeDevice.Parse("auto"));
            var n = spec.Inference.N;
            var kwargs = spec.Inference.ChatTemplateKwargs(); // rendered as the job renders them
            var prompts = data.SelectMany(r => Enumerable.Repeat(model.Template.Encode(model.Tokenizer, r.PromptMessages, r.Tools, kwargs: kwargs).Ids, n)).ToList();
            var samples = Sampler.Generate(model, prompts, new SamplingOptions(spec.Inference.Temperature, spec.Inference.TopP, spec.Inference.TopK,
                spec.Inference.MaxTokens, spec.Inference.Stop, null, spec.Seed));
            var results = new JsonArray();
            var all = new List<double>();
            int invalid = 0, zeroVariance = 0;
            for (int i = 0; i < data.Count; i++)
            {
                var scores = new List<double>();
                if (!p.GetValue(Cli.Json)) Console.WriteLine($"── row {data[i].Line}: {Short(data[i].PromptMessages[^1].Content ?? "")}");
                for (int k = 0; k < n; k++)
                {
                    var s = samples[i * n + k];
                    var r = (await evaluator.EvaluateAsync(new EvaluationInput(s.Text, data[i].GroundTruth, data[i].Raw), c)).Checked();
                    if (r.IsScoreValid) scores.Add(r.Score); else invalid++;
                    results.Add(new JsonObject { ["line"] = data[i].Line, ["sample"] = k, ["completion"] = s.Text, ["result"] = r.ToJson() });
                    if (!p.GetValue(Cli.Json)) Console.WriteLine($"   {(r.IsScoreValid ? r.Score.ToString("F3") : "INVALID")}  {Short(s.Text),-50}  {r.Reason}");
                }
                if (scores.Count > 1 && scores.Distinct().Count() == 1) zeroVariance++;
                all.AddRange(scores);
            }
            var mean = all.Count > 0 ? all.Average() : 0;
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonObject { ["reward_mean"] = mean, ["invalid"] = invalid, ["zero_variance_groups"] = zeroVariance, ["samples"] = results });
            else
            {
                Console.WriteLine($"mean reward {mean:F3} over {all.Count} valid samples; {invalid} invalid; {zeroVariance}/{data.Count} groups with no reward variance");
                if (zeroVariance == data.Count) Console.WriteLine("warning: every group has identical rewards, so GRPO advantages are all zero; make the reward graded or the task easier.");
            }
            return Cli.Ok;
        });
        var command = new Command("evaluator", "check a job's reward before training");
        command.Add(test);
        return command;
    }

    static string Short(string s) => (s.Length > 48 ? s[..47] + "…" : s).Replace("\n", "⏎");
}
