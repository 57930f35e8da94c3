using System.CommandLine;
using Orleans.Rft.Client;
using Orleans.Rft.Client.Commands;

var root = new RootCommand("rft: reinforcement fine-tuning of LLMs on Orleans");
root.Add(ModelCommands.Create());
return Cli.Run(root, args);
