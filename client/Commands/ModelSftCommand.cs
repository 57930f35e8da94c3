using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Training;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft model sft</c>: supervised warm start of every weight on chat rows that end with the
/// assistant's answer; writes a new model folder (tokenizer files copied).
/// </summary>
public static class ModelSftCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Required = true };
        var data = new Option<string>("--data") { Description = "JSONL rows whose last message is the assistant's target", Required = true };
        var steps = new Option<int>("--steps") { Required = true };
        var output = new Option<string>("--out") { Required = true };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--learning-rate") { DefaultValueFactory = _ => 3e-3 };
        var warmup = new Option<int>("--warmup-steps") { DefaultValueFactory = _ => 20 };
        var schedule = new Option<string>("--schedule") { Description = "learning-rate schedule after warm-up: cosine (to 10 %) or constant", DefaultValueFactory = _ => "cosine" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "dtype of the written weights", DefaultValueFactory = _ => "float32" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var command = new Command("sft", "supervised fine-tuning (warm start) of all weights");
        foreach (var o in new Option[] { model, data, steps, output, batch, lr, warmup, schedule, seed, dtype, device }) command.Add(o);
        command.SetAction(p =>
        {
            var source = Cli.RequireDirectory(p.GetValue(model)!, "model folder");
            if (p.GetValue(steps) < 1) throw new ArgumentException("--steps must be ≥ 1.");
            var saveType = SafeTensorDType.ParseName(p.GetValue(dtype)!);
            var rows = JsonlDataset.ReadOrThrow(p.GetValue(data)!);
            foreach (var row in rows)
                if (row.Messages[^1].Role != "assistant")
                    throw new InvalidDataException($"{p.GetValue(data)}:{row.Line}: messages: the last message must be the assistant's answer to learn.");
            using var lm = LanguageModel.Load(source, ComputeDevice.Parse(p.GetValue(device)!));
            var examples = rows.Select(r => lm.Template.Encode(lm.Tokenizer, r.Messages, r.Tools, addGenerationPrompt: false)).ToList();
            var watch = Stopwatch.StartNew();
            bool json = p.GetValue(Cli.Json);
            var options = new SftOptions(p.GetValue(steps), p.GetValue(batch), p.GetValue(lr), p.GetValue(warmup), Seed: p.GetValue(seed), Schedule: p.GetValue(schedule)!);
            var losses = SupervisedFineTuning.Run(lm, examples, options, (step, loss) =>
            {
                if (!json && (step % 25 == 0 || step == options.Steps - 1))
                    Console.Error.WriteLine($"step {step + 1,5}/{options.Steps}  loss {loss:F4}  {watch.Elapsed.TotalSeconds:F0}s");
            });
            var outDir = p.GetValue(output)!;
            lm.SaveBase(outDir, saveType);
            if (Path.GetFullPath(outDir) != Path.GetFullPath(source))
                foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "generation_config.json" })
                    if (File.Exists(Path.Combine(source, file))) File.Copy(Path.Combine(source, file), Path.Combine(outDir, file), overwrite: true);
            var last = losses.TakeLast(Math.Min(20, losses.Count)).Average();
            if (json) Cli.PrintJson(new JsonObject { ["out"] = outDir, ["steps"] = losses.Count, ["final_loss"] = last, ["seconds"] = watch.Elapsed.TotalSeconds });
            else Console.WriteLine($"wrote {outDir}: {losses.Count} steps, mean loss of the last 20 {last:F4}, {watch.Elapsed.TotalSeconds:F0} s");
            return Cli.Ok;
        });
        return command;
    }
}
