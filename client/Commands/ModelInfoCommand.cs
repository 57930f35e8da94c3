using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft model info DIR</c>: what a model (or PEFT adapter) folder holds.</summary>
public static class ModelInfoCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("DIR") { Description = "model or adapter folder" };
        var command = new Command("info", "describe a model or adapter folder");
        command.Add(path);
        command.SetAction(p =>
        {
            var dir = Cli.RequireDirectory(p.GetValue(path)!, "folder");
            var info = File.Exists(Path.Combine(dir, PeftAdapter.ConfigFile)) ? AdapterInfo(dir) : ModelInfo(dir);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(info);
            else foreach (var (k, v) in info) Console.WriteLine($"{k,-22} {(v is JsonValue ? v.ToString() : v?.ToJsonString())}");
            return Cli.Ok;
        });
        return command;
    }

    static JsonObject ModelInfo(string dir)
    {
        using var model = LanguageModel.Load(dir);
        var c = model.Config;
        var weights = Directory.EnumerateFiles(dir, "*.safetensors").ToList();
        var dtypes = weights.SelectMany(f => SafeTensorsFile.ReadHeader(f).Values.Select(e => e.DType)).Distinct().ToList();
        return new JsonObject
        {
            ["kind"] = "model",
            ["architecture"] = c.Architecture,
            ["parameters"] = c.ParameterCount,
            ["layers"] = c.NumHiddenLayers,
            ["hidden_size"] = c.HiddenSize,
            ["heads"] = $"{c.NumAttentionHeads} query / {c.NumKeyValueHeads} key-value, head_dim {c.HeadDim}",
            ["intermediate_size"] = c.IntermediateSize,
            ["vocab_size"] = c.VocabSize,
            ["tied_embeddings"] = c.TieWordEmbeddings,
            ["stored_dtype"] = string.Join(",", dtypes),
            ["weight_files"] = weights.Count,
            ["disk_bytes"] = weights.Sum(f => new FileInfo(f).Length),
            ["chat_template"] = model.Template.Name,
            ["stop_token_ids"] = new JsonArray(model.StopTokenIds.Select(i => (JsonNode)i).ToArray()),
        };
    }

    static JsonObject AdapterInfo(string dir)
    {
        var lora = PeftAdapter.ReadConfig(dir);
        var header = SafeTensorsFile.ReadHeader(Path.Combine(dir, PeftAdapter.WeightsFile));
        return new JsonObject
        {
            ["kind"] = "peft_lora_adapter",
            ["r"] = lora.Rank,
            ["lora_alpha"] = lora.Alpha,
            ["target_modules"] = string.Join(",", lora.Targets),
            ["tensors"] = header.Count,
            ["parameters"] = header.Values.Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b)),
        };
    }
}
