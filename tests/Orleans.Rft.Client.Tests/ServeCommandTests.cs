using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft serve</c>: folders checked before anything starts; a real process serves, answers, and stops on SIGINT with exit 0.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ServeCommandTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "rft-serve-tests", Guid.NewGuid().ToString("N")[..8]);

    public ServeCommandTests() => Directory.CreateDirectory(root);
    public void Dispose() => Directory.Delete(root, recursive: true);

    static string ExampleModel => Path.Combine(Repository.Root, "examples", "arithmetic", "base");

    [Fact]
    public void A_model_folder_without_config_json_exits_2_naming_the_folder_and_the_missing_files()
    {
        var dir = Path.Combine(root, "not-a-model");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{}");
        var (exit, _, stderr) = ConsoleCapture.Run(ServeCommand.Create(), "serve", "--model", dir);
        Assert.Equal(2, exit);
        Assert.Contains($"--model {dir}: config.json, model.safetensors (or model.safetensors.index.json) missing", stderr);
    }

    [Fact]
    public void A_missing_model_folder_exits_2_saying_it_does_not_exist()
    {
        var (exit, _, stderr) = ConsoleCapture.Run(ServeCommand.Create(), "serve", "--model", Path.Combine(root, "nowhere"));
        Assert.Equal(2, exit);
        Assert.Contains("folder '" + Path.Combine(root, "nowhere") + "' does not exist", stderr);
    }

    [Theory]
    [InlineData("math={dir}", "--adapter math={dir}: adapter_config.json, adapter_model.safetensors missing")]
    [InlineData("{dir}", "is not NAME=DIR")]
    [InlineData("jobs/x={dir}", "clashes with the endpoint's job forms")]
    [InlineData("base={dir}", "is the base model's name")]
    public void A_bad_adapter_exits_2_with_the_reason(string value, string reason)
    {
        var dir = Path.Combine(root, "empty-adapter");
        Directory.CreateDirectory(dir);
        var (exit, _, stderr) = ConsoleCapture.Run(ServeCommand.Create(), "serve", "--model", ExampleModel, "--adapter", value.Replace("{dir}", dir));
        Assert.Equal(2, exit);
        Assert.Contains(reason.Replace("{dir}", dir), stderr);
    }

    [Fact]
    public void Deploy_refuses_a_jobs_form_name_before_connecting_to_a_cluster()
    {
        var deploy = DeploymentCommands.Create().Single(c => c.Name == "deploy");
        var (exit, _, stderr) = ConsoleCapture.Run(deploy, "deploy", "some-job", "--name", "jobs/some-job");
        Assert.Equal(2, exit);
        Assert.Contains("clashes with the endpoint's job forms", stderr);
    }

    [Fact]
    public async Task A_serve_process_lists_its_model_and_adapter_answers_chat_completions_with_both_and_exits_0_on_SIGINT()
    {
        // A PEFT adapter over the example model, as rft run exports one (fresh LoRA: B = 0).
        var adapter = Path.Combine(root, "adapter");
        using (var model = Engine.Models.LanguageModel.Load(ExampleModel))
        {
            model.AttachLora(new Engine.Lora.LoraConfig(Rank: 4, Alpha: 8), seed: 1);
            Engine.Lora.PeftAdapter.Save(model, adapter, baseModelName: "base");
        }
        var port = Jobs.ClusterConnection.FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "rft.dll"), "serve", "--model", ExampleModel, "--port", port.ToString(), "--device", "cpu", "--adapter", $"math={adapter}" })
            start.ArgumentList.Add(a);
        using var rft = Process.Start(start)!;
        var stderr = rft.StandardError.ReadToEndAsync();
        try
        {
            var lines = new List<string>();
            using (var ready = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
                while (await rft.StandardOutput.ReadLineAsync(ready.Token) is { } line && !line.StartsWith("Ctrl+C")) lines.Add(line);
            if (!lines.Contains($"serving on http://127.0.0.1:{port}/v1"))
                throw new Xunit.Sdk.XunitException($"no 'serving on' line: {string.Join('\n', lines)}{await Drain(rft, stderr)}");
            Assert.Contains("models: base, math", lines);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/v1/"), Timeout = TimeSpan.FromMinutes(1) };
            JsonNode models;
            try { models = JsonNode.Parse(await http.GetStringAsync("models"))!; }
            catch (HttpRequestException e) { throw new Xunit.Sdk.XunitException($"{e.Message}; rft serve said:\n{string.Join('\n', lines)}{await Drain(rft, stderr)}"); }
            var listed = models["data"]!.AsArray().ToDictionary(m => (string)m!["id"]!, m => (string?)m!["parent"]);
            Assert.True(listed.TryGetValue("base", out var none) && none is null, models.ToJsonString());
            Assert.True(listed.TryGetValue("math", out var parent) && parent == "base", models.ToJsonString());
            foreach (var name in new[] { "base", "math" })
            {
                var reply = await http.PostAsJsonAsync("chat/completions", new { model = name, messages = new[] { new { role = "user", content = "2+3=" } }, max_tokens = 4, temperature = 0 });
                var body = await reply.Content.ReadAsStringAsync();
                Assert.True(reply.IsSuccessStatusCode, body);
                Assert.Equal(name, (string?)JsonNode.Parse(body)!["model"]);
                Assert.NotNull((string?)JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]);
            }

            Process.Start("kill", ["-INT", rft.Id.ToString()])!.WaitForExit();
            await rft.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(rft.ExitCode == 0, $"exit {rft.ExitCode}: {await stderr}");
        }
        finally
        {
            if (!rft.HasExited) rft.Kill(entireProcessTree: true);
        }
    }

    static async Task<string> Drain(Process p, Task<string> stderr)
    {
        var state = p.HasExited ? $"exited with {p.ExitCode}" : "was running";
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        return $"\n(the process {state})\n" + await stderr;
    }
}
