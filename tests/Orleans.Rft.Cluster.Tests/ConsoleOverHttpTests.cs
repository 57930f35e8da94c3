using System.Text.Json.Nodes;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The console as a user outside the cluster runs it: the real <c>rft</c> process speaking only HTTP (<c>--url</c> /
/// <c>RFT_URL</c>, <c>--api-key</c> / <c>RFT_API_KEY</c>) to a silo that reads no local paths.
/// </summary>
[Collection(JobsHttpCollection.Name)]
public sealed class ConsoleOverHttpTests(JobsHttpFixture fx)
{
    string Url => fx.Host.BaseUrl.ToString();
    Dictionary<string, string> Env => new() { ["RFT_URL"] = Url, ["RFT_API_KEY"] = JobsHttpFixture.Key };

    async Task<string> Ok(Dictionary<string, string>? env, string? stdin, params string[] args)
    {
        var (exit, stdout, stderr) = await RftConsoleProcess.Run(env, stdin, args);
        Assert.True(exit == 0, $"rft {string.Join(' ', args)} exited {exit}: {stderr}\n{stdout}");
        return stdout;
    }

    [Fact]
    public async Task Submit_with_uploads_pause_resume_watch_rollouts_export_deploy_and_chat_all_work_over_url_alone()
    {
        var dir = Path.Combine(fx.Toy.Root, "console-job");
        Directory.CreateDirectory(dir);
        // one row more than the fixture's dataset: new bytes, so this upload really sends them
        var lines = (await File.ReadAllLinesAsync(fx.Toy.DatasetPath)).ToList();
        await File.WriteAllLinesAsync(Path.Combine(dir, "train.jsonl"), lines.Append(lines[0].Replace("prompt 0", "prompt 16")));
        await File.WriteAllTextAsync(Path.Combine(dir, "job.yaml"), $"""
            name: console-http
            base_model: {fx.Toy.ModelDir}
            dataset: train.jsonl
            evaluator: {"{"}type: contains{"}"}
            training: {"{"}learning_rate: 0.05, batch_prompts: 4, micro_batch: 16, max_steps: 12, lora_rank: 4{"}"}
            inference: {"{"}n: 8, max_tokens: 8{"}"}
            checkpoint: {"{"}every_steps: 4{"}"}
            eval_every: 0
            seed: 7
            """);

        // submit: local files are uploaded over HTTP (this silo would refuse their paths)
        var (exit, stdout, stderr) = await RftConsoleProcess.Run(null, null, "submit", Path.Combine(dir, "job.yaml"), "--url", Url, "--api-key", JobsHttpFixture.Key);
        Assert.True(exit == 0, stderr);
        Assert.Contains("train.jsonl: uploaded", stderr);
        Assert.Contains("config.json: already in the cluster", stderr); // the fixture uploaded the same model files: content-addressed, nothing sent
        var id = stdout.Split(' ')[1];
        Assert.StartsWith("console-http-", id);

        // pause (env vars instead of flags), held, resume
        var paused = JsonNode.Parse(await Ok(Env, null, "pause", id, "--json"))!;
        Assert.Equal(id, paused["job_id"]!.GetValue<string>());
        JsonNode status;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((status = JsonNode.Parse(await Ok(Env, null, "status", id, "--json"))!)["status"]!.GetValue<string>() != "paused")
            Assert.True(DateTime.UtcNow < deadline, $"never paused: {status}");
        await Ok(Env, null, "resume", id);

        // watch follows the event stream to the end
        var watched = await Ok(Env, null, "watch", id);
        Assert.Contains("step   12/12", watched);
        status = JsonNode.Parse(await Ok(Env, null, "status", id, "--json"))!;
        Assert.Equal("completed", status["status"]!.GetValue<string>()); // a name, not 4
        Assert.Contains(id, JsonNode.Parse(await Ok(Env, null, "jobs", "--json"))!.AsArray().Select(j => j!["job_id"]!.GetValue<string>()));

        var rollouts = JsonNode.Parse(await Ok(Env, null, "rollouts", id, "--step", "0", "--best", "3", "--json"))!.AsArray();
        Assert.Equal(3, rollouts.Count);
        Assert.All(rollouts, r => Assert.Equal(0, r!["step"]!.GetValue<int>()));

        var outDir = Path.Combine(dir, "adapter");
        var exported = JsonNode.Parse(await Ok(Env, null, "export", id, "--out", outDir, "--json"))!;
        Assert.Equal(12, exported["step"]!.GetValue<int>());
        var info = await fx.Grains.GetGrain<IJobGrain>(id).GetAdapter(null);
        Assert.Equal(info.ConfigJson, await File.ReadAllTextAsync(Path.Combine(outDir, "adapter_config.json")));
        Assert.Equal(await fx.Grains.GetGrain<IJobGrain>(id).GetAdapterChunk(info.ArtifactPath, 0, (int)info.WeightsBytes), await File.ReadAllBytesAsync(Path.Combine(outDir, "adapter_model.safetensors")));

        var deployed = JsonNode.Parse(await Ok(Env, null, "deploy", id, "--name", "console-model", "--json"))!;
        Assert.Equal(12, deployed["step"]!.GetValue<int>());
        Assert.Contains("console-model", JsonNode.Parse(await Ok(Env, null, "models", "--json"))!.AsArray().Select(d => d!["name"]!.GetValue<string>()));
        string chat = "";
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until;) // silos read the deployments list at most every 3 s
        {
            var (chatExit, chatOut, _) = await RftConsoleProcess.Run(Env, "go\n/exit\n", "chat", "--model", "console-model", "--max-tokens", "4", "--json");
            if (chatExit == 0) { chat = chatOut; break; }
            await Task.Delay(500);
        }
        Assert.Equal("assistant", JsonNode.Parse(chat.Trim())!["role"]!.GetValue<string>());
        await Ok(Env, null, "undeploy", "console-model");
    }

    [Fact]
    public async Task Over_url_an_unknown_job_and_a_wrong_key_exit_2_with_one_line_and_an_unreachable_url_exits_1()
    {
        var (exit, stdout, stderr) = await RftConsoleProcess.Run(Env, null, "status", "no-such-job");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("No job 'no-such-job'", stderr);

        (exit, _, stderr) = await RftConsoleProcess.Run(null, null, "jobs", "--url", Url, "--api-key", "sk-wrong");
        Assert.Equal(2, exit);
        Assert.Contains("refused the API key", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        (exit, _, stderr) = await RftConsoleProcess.Run(null, null, "jobs", "--url", $"http://127.0.0.1:{Orleans.Rft.Client.Jobs.ClusterConnection.FreePort()}");
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach the cluster", stderr);

        (exit, _, stderr) = await RftConsoleProcess.Run(null, null, "jobs", "--url", "ftp://x", "--api-key", "k");
        Assert.Equal(2, exit);
        Assert.Contains("--url", stderr);
    }
}
