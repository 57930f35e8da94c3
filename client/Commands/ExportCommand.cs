using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft export ID [--step N] --out DIR</c>: the PEFT adapter, loadable by HF PEFT and vLLM.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID");
        var step = new Option<int?>("--step") { Description = "a checkpointed step (default: the latest adapter)" };
        var output = new Option<string>("--out") { Required = true };
        var command = new Command("export", "export a job's LoRA adapter in the PEFT layout") { id, step, output };
        command.SetAction((p, c) => JobCommands.WithCluster(p, c, async cluster =>
        {
            if (p.GetValue(step) is int s && s < 0) throw new ArgumentException($"--step is {s}; give a saved step (`rft status {p.GetValue(id)}`).");
            var info = await cluster.Export(p.GetValue(id)!, p.GetValue(step), p.GetValue(output)!, c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonObject { ["out"] = Path.GetFullPath(p.GetValue(output)!), ["step"] = info.Step, ["bytes"] = info.WeightsBytes });
            else Console.WriteLine($"adapter of step {info.Step} written to {p.GetValue(output)} ({info.WeightsBytes:N0} bytes of weights)");
            return Cli.Ok;
        }));
        return command.WithHttpOptions();
    }
}
