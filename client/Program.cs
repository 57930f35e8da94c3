using System.CommandLine;
using Orleans.Rft.Client;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Client.Jobs;

var root = new RootCommand("rft: reinforcement fine-tuning of LLMs on Orleans");
root.Add(RunCommand.Create());
foreach (var command in JobCommands.Create()) root.Add(command);
root.Add(RolloutsCommand.Create());
root.Add(ExportCommand.Create());
root.Add(EvaluatorTestCommand.Create());
root.Add(DatasetCommands.Create());
root.Add(ModelCommands.Create());
root.Add(ClusterConnection.GatewayPort);
root.Add(ClusterConnection.AzureStorage);
root.Add(ClusterConnection.ClusterId);
return Cli.Run(root, args);
