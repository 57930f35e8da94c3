using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// One silo with its OpenAI-compatible endpoint (an API key required) serving: <c>toy</c> (the cluster
/// fixture's micro model), <c>toy-lora</c> (a LoRA adapter over it from a local folder), <c>deployed</c>
/// (another adapter in the artifact store, listed by a fake deployments list) and <c>toolbot</c>, a
/// micro model fine-tuned until its greedy answers are a tool call for the weather question and, after
/// the tool's answer, a sentence that uses it.
/// </summary>
public sealed class HttpFixture : IAsyncLifetime
{
    public const string Key = "sk-test-8f1d2c";
    /// <summary>The key agent servers push log lines with (<c>Rft:AgentLogKeys</c>), not a serving key.</summary>
    public const string LogKey = "rft-agent-log-test-5b7e";
    public const string WeatherQuestion = "What is the weather in Paris?";
    public const string ToolCallText = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    public const string ToolResult = "sunny, 21 C";
    public const string FinalAnswer = "It is sunny in Paris.";

    public ClusterFixture Toy { get; } = new();
    public HttpHost Host { get; private set; } = null!;
    public FakeDeployments Deployments { get; } = new();
    public string ToolModelDir => Path.Combine(Toy.Root, "toolbot");
    public string AdapterDir => Path.Combine(Toy.Root, "toy-lora");
    public string ArtifactsRoot => Path.Combine(Toy.Root, "artifacts");
    public const string DeployedAdapterPath = "tests/adapters/deployed";

    public static JsonObject WeatherTool => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = "get_weather",
            ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } } },
        },
    };

    public static List<ChatMessage> FirstTurn => [ChatMessage.User(WeatherQuestion)];

    public static List<ChatMessage> SecondTurn =>
    [
        ChatMessage.User(WeatherQuestion),
        new("assistant", null, [new ToolCall("call_1", "get_weather", new JsonObject { ["city"] = "Paris" })]),
        new("tool", ToolResult, ToolCallId: "call_1"),
    ];

    public async Task InitializeAsync()
    {
        await Toy.InitializeModelAndData();
        WriteAdapter(Toy.ModelDir, AdapterDir, seed: 3, rank: 2);
        WriteAdapter(Toy.ModelDir, Path.Combine(ArtifactsRoot, DeployedAdapterPath), seed: 5, rank: 4);
        TrainToolModel();
        Deployments.Set([new ModelDeployment("deployed", "job-x", 4, 2, Toy.ModelDir, DeployedAdapterPath, DateTimeOffset.UtcNow)]);
        Host = await HttpHost.StartAsync(Options(), s => s.AddSingleton<IDeployedModels>(Deployments));
    }

    public RftSiloOptions Options(bool withKey = true) => new()
    {
        Devices = "cpu", ArtifactsPath = ArtifactsRoot, AllowLocalPaths = true,
        ApiKeys = withKey ? [Key] : [],
        AgentLogKeys = withKey ? [LogKey] : [],
        Models = new() { ["toy"] = Toy.ModelDir, ["toolbot"] = ToolModelDir },
        Adapters = new() { ["toy-lora"] = new ServedAdapterOptions { Path = AdapterDir, BaseModel = "toy" } },
    };

    /// <summary>A LoRA adapter with B drawn large enough that its greedy output differs from the base's.</summary>
    public static void WriteAdapter(string modelDir, string dir, long seed, int rank)
    {
        using var model = LanguageModel.Load(modelDir);
        model.AttachLora(new LoraConfig(Rank: rank, Alpha: 16, TargetModules: ["q_proj", "v_proj", "o_proj"]), seed);
        using (no_grad())
        using (var g = new Generator((ulong)seed))
            foreach (var (_, p) in model.LoraParameters().Where(p => p.Name.EndsWith("lora_B")))
                p.copy_(randn(p.shape, generator: g) * 0.5);
        PeftAdapter.Save(model, dir);
    }

    /// <summary>
    /// Fine-tunes a fresh micro model on the two turns of the weather conversation until greedy
    /// decoding reproduces both answers exactly (or fails the fixture, saying what it writes instead).
    /// </summary>
    void TrainToolModel()
    {
        using var model = TinyModelPresets.Create("micro", ToolModelDir, seed: 11);
        var tools = new List<JsonObject> { WeatherTool };
        var first = FirstTurn.Append(new ChatMessage("assistant", null, [new ToolCall("call_1", "get_weather", new JsonObject { ["city"] = "Paris" })])).ToList();
        var second = SecondTurn.Append(ChatMessage.Assistant(FinalAnswer)).ToList();
        var examples = new[] { first, second }.Select(m => model.Template.Encode(model.Tokenizer, m, tools, addGenerationPrompt: false)).ToList();
        string[] outputs = [];
        for (int round = 0; round < 6; round++)
        {
            SupervisedFineTuning.Run(model, examples, new SftOptions(Steps: 100, BatchSize: 2, LearningRate: 1e-2, WarmupSteps: 10, Seed: round, Schedule: "constant"));
            outputs = [Greedy(model, FirstTurn, tools), Greedy(model, SecondTurn, tools)];
            if (outputs[0] == ToolCallText && outputs[1] == FinalAnswer)
            {
                model.SaveBase(ToolModelDir, ScalarType.Float32);
                return;
            }
        }
        throw new InvalidOperationException($"the tool model did not learn its two answers; it writes {string.Join(" | ", outputs.Select(o => JsonValue.Create(o)!.ToJsonString()))}");
    }

    static string Greedy(LanguageModel model, List<ChatMessage> messages, List<JsonObject> tools) =>
        Sampler.Generate(model, [model.Template.Encode(model.Tokenizer, messages, tools).Ids], new SamplingOptions(Temperature: 0, MaxTokens: 96))[0].Text;

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        await Toy.DisposeAsync();
    }
}

/// <summary>A deployments list the test sets (the endpoint's view of <c>IModelDeploymentsGrain</c>).</summary>
public sealed class FakeDeployments : IDeployedModels
{
    IReadOnlyList<ModelDeployment> list = [];
    public IReadOnlyList<ModelDeployment> Current => list;
    public void Set(IReadOnlyList<ModelDeployment> deployments) => list = deployments;
    public Task<IReadOnlyList<ModelDeployment>> ListAsync(CancellationToken cancellation) => Task.FromResult(list);
}

[CollectionDefinition(Name)]
public sealed class HttpCollection : ICollectionFixture<HttpFixture>
{
    public const string Name = "http";
}
