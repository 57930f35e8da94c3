using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Data;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft dataset validate FILE</c>: every bad line with its number, field and fix.</summary>
public static class DatasetCommands
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE");
        var validate = new Command("validate", "check a JSONL dataset line by line") { file };
        validate.SetAction(p =>
        {
            var (rows, errors) = JsonlDataset.Read(p.GetValue(file)!);
            if (p.GetValue(Cli.Json))
                Cli.PrintJson(new JsonObject
                {
                    ["rows"] = rows.Count,
                    ["with_ground_truth"] = rows.Count(r => r.GroundTruth is not null),
                    ["with_tools"] = rows.Count(r => r.Tools is not null),
                    ["errors"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject { ["line"] = e.Line, ["field"] = e.Field, ["message"] = e.Message }).ToArray()),
                });
            else
            {
                foreach (var e in errors) Console.Error.WriteLine(e);
                Console.WriteLine($"{rows.Count} valid row(s), {errors.Count} bad line(s); {rows.Count(r => r.GroundTruth is not null)} with ground_truth, {rows.Count(r => r.Tools is not null)} with tools");
            }
            return errors.Count == 0 ? Cli.Ok : Cli.UsageError;
        });
        var command = new Command("dataset", "work with datasets");
        command.Add(validate);
        return command;
    }
}
