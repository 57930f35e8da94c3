using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft model init</c>: write a randomly initialised tiny preset in the HF layout.</summary>
public static class ModelInitCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"one of {string.Join(", ", TinyModelPresets.Presets.Keys)}", Required = true };
        var output = new Option<string>("--out") { Description = "folder to write", Required = true };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "float32, bfloat16 or float16", DefaultValueFactory = _ => "float32" };
        var command = new Command("init", "create a tiny model from a preset");
        foreach (var o in new Option[] { preset, output, seed, dtype }) command.Add(o);
        command.SetAction(p =>
        {
            var name = p.GetValue(preset)!;
            if (!TinyModelPresets.Presets.ContainsKey(name))
                throw new ArgumentException($"--preset '{name}' is unknown; choose from {string.Join(", ", TinyModelPresets.Presets.Keys)}.");
            var dir = p.GetValue(output)!;
            using var model = TinyModelPresets.Create(name, dir, p.GetValue(seed), SafeTensorDType.ParseName(p.GetValue(dtype)!));
            if (p.GetValue(Cli.Json))
                Cli.PrintJson(new JsonObject { ["path"] = Path.GetFullPath(dir), ["preset"] = name, ["parameters"] = model.Config.ParameterCount });
            else
                Console.WriteLine($"wrote preset '{name}' ({model.Config.ParameterCount:N0} parameters) to {dir}");
            return Cli.Ok;
        });
        return command;
    }
}
