using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Commands;

/// <summary><c>rft deploy | undeploy | models</c>: a job's adapter served by name on every silo's endpoint.</summary>
public static class DeploymentCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Deploy();
        yield return Undeploy();
        yield return Models();
    }

    static Command Deploy()
    {
        var job = new Argument<string>("JOB_ID") { Description = "the job whose adapter is served" };
        var step = new Option<int?>("--step") { Description = "a saved step's adapter (default: the latest)" };
        var name = new Option<string>("--name") { Description = $"the model name requests use (letters, digits, '.', '_', '-'; at most {ModelDeploymentNames.MaxLength})", Required = true };
        var command = new Command("deploy", "serve a job's adapter as a named model on the cluster's endpoint (again with the same name: replace it)") { job, step, name };
        command.SetAction((p, c) =>
        {
            var model = ModelDeploymentNames.Checked(p.GetValue(name)); // before connecting: a bad name is the user's to fix
            if (p.GetValue(step) is int s && s < 0) throw new ArgumentException($"--step is {s}; give a saved step (`rft status {p.GetValue(job)}`).");
            return JobCommands.WithCluster(p, c, async cluster =>
            {
                var d = await cluster.Deploy(model, p.GetValue(job)!, p.GetValue(step), c);
                if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(d));
                else Console.WriteLine($"deployed {d.Name}: job {d.JobId} step {d.Step} (policy v{d.Version}) over {d.BaseModel}; call it with model \"{d.Name}\"");
                return Cli.Ok;
            });
        });
        return command.WithHttpOptions();
    }

    static Command Undeploy()
    {
        var name = new Argument<string>("NAME");
        var command = new Command("undeploy", "stop serving a deployed model and delete its copy of the adapter") { name };
        command.SetAction((p, c) => JobCommands.WithCluster(p, c, async cluster =>
        {
            var removed = await cluster.Undeploy(p.GetValue(name)!, c);
            if (!removed) throw new ArgumentException($"no deployment '{p.GetValue(name)}'; `rft models` lists them.");
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonObject { ["name"] = p.GetValue(name), ["undeployed"] = true });
            else Console.WriteLine($"undeployed {p.GetValue(name)}");
            return Cli.Ok;
        }));
        return command.WithHttpOptions();
    }

    static Command Models()
    {
        var command = new Command("models", "list the deployed models (job, step, base model)");
        command.SetAction((p, c) => JobCommands.WithCluster(p, c, async cluster =>
        {
            var list = await cluster.Deployments(c);
            if (p.GetValue(Cli.Json)) Cli.PrintJson(new JsonArray(list.Select(d => (JsonNode)ToJson(d)).ToArray()));
            else if (list.Count == 0) Console.WriteLine("no deployed models; `rft deploy JOB_ID --name NAME` deploys a job's adapter");
            else
            {
                Console.WriteLine($"{"NAME",-24} {"JOB",-40} {"STEP",6} {"VERSION",7} {"DEPLOYED",-20} BASE");
                foreach (var d in list)
                    Console.WriteLine($"{d.Name,-24} {d.JobId,-40} {d.Step,6} {d.Version,7} {d.DeployedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {d.BaseModel}");
            }
            return Cli.Ok;
        }));
        return command.WithHttpOptions();
    }

    /// <summary>A deployment as <c>--json</c> and the jobs API show it: base_model as users named it, base_model_source where the silos load it from.</summary>
    public static JsonObject ToJson(Deployment d) => RftJson.ToObject(d);
}
