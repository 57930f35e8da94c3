using System.CommandLine;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft model …</c>: work with a model folder directly, without a cluster.</summary>
public static class ModelCommands
{
    public static Command Create()
    {
        var model = new Command("model", "generate with, score with, create, warm-start and inspect models");
        model.Add(ModelGenerateCommand.Create());
        model.Add(ModelScoreCommand.Create());
        model.Add(ModelInitCommand.Create());
        model.Add(ModelSftCommand.Create());
        model.Add(ModelInfoCommand.Create());
        model.Add(ModelRenderCommand.Create());
        return model;
    }
}
