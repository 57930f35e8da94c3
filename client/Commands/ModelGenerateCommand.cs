using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft model generate</c>: sample completions for a prompt, a messages file, or every row of a
/// dataset (<c>--data</c>, written as JSONL for scoring offline).
/// </summary>
public static class ModelGenerateCommand
{
    public static Command Create()
    {
        var models = new ModelOptions();
        var prompt = new Option<string?>("--prompt") { Description = "a user message" };
        var messages = new Option<string?>("--messages") { Description = "JSON file: an OpenAI messages array, or {messages, tools}" };
        var data = new Option<string?>("--data") { Description = "JSONL dataset: generate for every row's prompt" };
        var output = new Option<string?>("--out") { Description = "with --data: write JSONL here instead of stdout" };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 256 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 1.0 };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => 1.0 };
        var topK = new Option<int>("--top-k") { Description = "0 = off", DefaultValueFactory = _ => 0 };
        var seed = new Option<long?>("--seed");
        var n = new Option<int>("--n") { Description = "completions per prompt", DefaultValueFactory = _ => 1 };
        var stop = new Option<string[]>("--stop") { Description = "stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var batch = new Option<int>("--batch-size") { Description = "with --data: prompts per forward batch", DefaultValueFactory = _ => 64 };
        var command = new Command("generate", "sample completions with a model (and adapter)");
        models.AddTo(command);
        foreach (var o in new Option[] { prompt, messages, data, output, maxTokens, temperature, topP, topK, seed, n, stop, batch }) command.Add(o);
        command.Validators.Add(r =>
        {
            int given = new[] { r.GetValue(prompt) is not null, r.GetValue(messages) is not null, r.GetValue(data) is not null }.Count(x => x);
            if (given != 1) r.AddError("give exactly one of --prompt, --messages or --data.");
        });
        command.SetAction(p =>
        {
            var options = new SamplingOptions(p.GetValue(temperature), p.GetValue(topP), p.GetValue(topK), p.GetValue(maxTokens),
                p.GetValue(stop) ?? [], null, p.GetValue(seed));
            options.Validate();
            if (p.GetValue(n) < 1) throw new ArgumentException("--n must be ≥ 1.");
            using var model = models.Load(p);
            if (p.GetValue(data) is string dataPath)
                return GenerateDataset(model, JsonlDataset.ReadOrThrow(dataPath), options, p.GetValue(n), p.GetValue(batch), p.GetValue(output));
            var (msgs, tools) = p.GetValue(prompt) is string text ? ([ChatMessage.User(text)], null) : ReadMessages(p.GetValue(messages)!);
            var ids = model.Template.Encode(model.Tokenizer, msgs, tools).Ids;
            var watch = Stopwatch.StartNew();
            var results = Sampler.Generate(model, Enumerable.Repeat(ids, p.GetValue(n)).ToList(), options);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(model, ids, results, watch.Elapsed.TotalSeconds));
            else
                for (int i = 0; i < results.Count; i++)
                {
                    if (results.Count > 1) Console.WriteLine($"--- [{i}] finish_reason={results[i].FinishReason}");
                    Console.WriteLine(results[i].Text);
                }
            return Cli.Ok;
        });
        return command;
    }

    public static (List<ChatMessage> Messages, List<JsonObject>? Tools) ReadMessages(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"messages file '{path}' does not exist.");
        var node = JsonNode.Parse(File.ReadAllText(path));
        if (node is JsonObject o)
            return (ChatMessage.ParseList(o["messages"], path), (o["tools"] as JsonArray)?.Select(t => (JsonObject)t!.DeepClone()).ToList());
        return (ChatMessage.ParseList(node, path), null);
    }

    static JsonObject ToJson(LanguageModel model, int[] promptIds, IReadOnlyList<GeneratedSequence> results, double seconds)
    {
        var choices = new JsonArray();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var tokens = new JsonArray();
            for (int t = 0; t < r.TokenIds.Length; t++)
                tokens.Add(new JsonObject
                {
                    ["id"] = r.TokenIds[t],
                    ["token"] = model.Tokenizer.Decode([r.TokenIds[t]]),
                    ["logprob"] = r.SampledLogProbs[t],
                    ["policy_logprob"] = r.PolicyLogProbs[t],
                });
            choices.Add(new JsonObject { ["index"] = i, ["text"] = r.Text, ["finish_reason"] = r.FinishReason, ["tokens"] = tokens });
        }
        var generated = results.Sum(r => r.TokenIds.Length);
        return new JsonObject
        {
            ["model"] = model.Directory,
            ["choices"] = choices,
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptIds.Length, ["completion_tokens"] = generated },
            ["seconds"] = Math.Round(seconds, 4),
        };
    }

    static int GenerateDataset(LanguageModel model, List<DatasetRow> rows, SamplingOptions options, int n, int batchSize, string? output)
    {
        using var writer = output is null ? Console.Out : new StreamWriter(output);
        var watch = Stopwatch.StartNew();
        long tokens = 0;
        for (int start = 0; start < rows.Count; start += batchSize)
        {
            var chunk = rows.Skip(start).Take(batchSize).ToList();
            var prompts = chunk.SelectMany(r => Enumerable.Repeat(model.Template.Encode(model.Tokenizer, r.PromptMessages, r.Tools).Ids, n)).ToList();
            var results = Sampler.Generate(model, prompts, options with { Seed = options.Seed is long s ? s + start : null });
            for (int i = 0; i < results.Count; i++)
            {
                var row = chunk[i / n];
                tokens += results[i].TokenIds.Length;
                writer.WriteLine(new JsonObject
                {
                    ["line"] = row.Line,
                    ["sample"] = i % n,
                    ["completion"] = results[i].Text,
                    ["finish_reason"] = results[i].FinishReason,
                    ["completion_tokens"] = results[i].TokenIds.Length,
                    ["ground_truth"] = row.GroundTruth?.DeepClone(),
                }.ToJsonString());
            }
        }
        Console.Error.WriteLine($"generated {rows.Count * n} completions, {tokens} tokens in {watch.Elapsed.TotalSeconds:F1} s ({tokens / watch.Elapsed.TotalSeconds:F0} tok/s)");
        return Cli.Ok;
    }
}
