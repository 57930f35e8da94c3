using System.CommandLine;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;

namespace Orleans.Rft.Client.Commands;

/// <summary>The options every command that loads a model shares.</summary>
public sealed class ModelOptions
{
    public readonly Option<string> Model = new("--model") { Description = "Hugging Face model folder", Required = true };
    public readonly Option<string?> Adapter = new("--adapter") { Description = "PEFT LoRA adapter folder to apply" };
    public readonly Option<string> Device = new("--device") { Description = "auto, cpu or cuda:N", DefaultValueFactory = _ => "auto" };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Adapter);
        command.Add(Device);
    }

    public LanguageModel Load(ParseResult p)
    {
        var dir = Cli.RequireDirectory(p.GetValue(Model)!, "model folder");
        var model = LanguageModel.Load(dir, ComputeDevice.Parse(p.GetValue(Device)!));
        if (p.GetValue(Adapter) is string adapter) PeftAdapter.Load(model, Cli.RequireDirectory(adapter, "adapter folder"));
        return model;
    }
}
