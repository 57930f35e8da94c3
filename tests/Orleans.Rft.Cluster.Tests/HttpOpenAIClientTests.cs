#pragma warning disable OPENAI001 // Seed is marked experimental in the client
using System.Text.Json.Nodes;
using OpenAI.Chat;
using Orleans.Rft.Engine.Sampling;
using EngineChat = Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The endpoint through the official OpenAI .NET client (2.15.0): what users' code sees.</summary>
[Collection(HttpCollection.Name)]
public sealed class HttpOpenAIClientTests(HttpFixture fx)
{
    [Fact]
    public async Task The_models_list_names_configured_models_their_folders_adapters_and_deployments()
    {
        var models = (await HttpTestClient.OpenAI(fx.Host).GetOpenAIModelClient().GetModelsAsync()).Value;
        var ids = models.Select(m => m.Id).ToList();
        Assert.Equal(["toy", "toolbot", "model", "toy-lora", "deployed"], ids); // "model" is the toy model's folder name
        Assert.All(models, m => Assert.Equal("orleans-rft", m.OwnedBy));
        // vLLM's fields for adapters: parent = the base model's name, root = where the adapter's files are
        using var http = HttpTestClient.Raw(fx.Host);
        var list = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("v1/models"))!;
        Assert.Equal("list", list["object"]!.GetValue<string>());
        var byId = list["data"]!.AsArray().ToDictionary(m => m!["id"]!.GetValue<string>(), m => m!);
        Assert.Equal(("toy", fx.AdapterDir), (byId["toy-lora"]["parent"]!.GetValue<string>(), byId["toy-lora"]["root"]!.GetValue<string>()));
        Assert.Equal(("toy", HttpFixture.DeployedAdapterPath), (byId["deployed"]["parent"]!.GetValue<string>(), byId["deployed"]["root"]!.GetValue<string>()));
        Assert.Null(byId["toy"]["parent"]);
        Assert.All(byId.Values, m => Assert.Equal("model", m["object"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_greedy_chat_answer_is_the_engines_greedy_answer_to_the_templated_prompt()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toy");
        var answer = (await chat.CompleteChatAsync([new UserChatMessage("hello there")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 })).Value;
        var prompt = HttpTestClient.ChatPrompt(fx.Toy.ModelDir, [EngineChat.ChatMessage.User("hello there")]);
        var expected = HttpTestClient.Engine(fx.Toy.ModelDir, null, prompt, new SamplingOptions(Temperature: 0, MaxTokens: 12));
        Assert.Equal(expected.Text, answer.Content.Count == 0 ? "" : answer.Content[0].Text);
        Assert.Equal(prompt.Length, answer.Usage.InputTokenCount);
        Assert.Equal(expected.TokenIds.Length, answer.Usage.OutputTokenCount);
        Assert.Equal(expected.FinishReason == "stop" ? ChatFinishReason.Stop : ChatFinishReason.Length, answer.FinishReason);
    }

    [Fact]
    public async Task A_streamed_chat_answer_adds_up_to_the_whole_answer_and_ends_with_usage()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toy");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        var whole = (await chat.CompleteChatAsync([new UserChatMessage("stream me")], options)).Value;
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream me")], options))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(whole.Content.Count == 0 ? "" : whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task A_stop_string_ends_the_answer_just_before_it()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toy");
        var free = (await chat.CompleteChatAsync([new UserChatMessage("stop test")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 })).Value.Content[0].Text;
        Assert.True(free.Length >= 6, $"the greedy answer '{free}' is too short to cut");
        var stop = free.Substring(3, 2);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };
        options.StopSequences.Add(stop);
        var cut = (await chat.CompleteChatAsync([new UserChatMessage("stop test")], options)).Value;
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], cut.Content.Count == 0 ? "" : cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
    }

    [Fact]
    public async Task A_tool_call_comes_back_structured_and_the_tool_result_sent_back_gets_the_final_answer()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toolbot");
        var tool = ChatTool.CreateFunctionTool("get_weather", functionParameters: BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 96, Tools = { tool } };
        List<ChatMessage> messages = [new UserChatMessage(HttpFixture.WeatherQuestion)];
        var first = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonNode.Parse(call.FunctionArguments.ToString())!["city"]!.GetValue<string>());
        Assert.StartsWith("call_", call.Id);

        messages.Add(new AssistantChatMessage(first.ToolCalls));
        messages.Add(new ToolChatMessage(call.Id, HttpFixture.ToolResult));
        var second = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Empty(second.ToolCalls);
        Assert.Equal(HttpFixture.FinalAnswer, second.Content[0].Text);
    }

    [Fact]
    public async Task A_streamed_tool_call_arrives_as_a_tool_call_update_with_its_name_and_arguments()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toolbot");
        var tool = ChatTool.CreateFunctionTool("get_weather", functionParameters: BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 96, Tools = { tool } };
        string? name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(HttpFixture.WeatherQuestion)], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name ??= call.FunctionName;
                if (call.FunctionArgumentsUpdate is { } args) arguments.Append(args.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.Equal("Paris", JsonNode.Parse(arguments.ToString())!["city"]!.GetValue<string>());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    /// <summary>
    /// OpenAI's contract: with logprobs every generated token has its log-prob under the model and the
    /// k most likely alternatives, most likely first; a greedy token is the most likely one. Needs a
    /// generation service that reports raw log-probs (the continuous-batching scheduler).
    /// </summary>
    [Fact]
    public async Task Chat_logprobs_give_each_token_and_its_top_alternatives_and_a_greedy_token_is_the_top_one()
    {
        var chat = HttpTestClient.OpenAI(fx.Host).GetChatClient("toy");
        var answer = (await chat.CompleteChatAsync([new UserChatMessage("logprobs")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 })).Value;
        Assert.Equal(answer.Usage.OutputTokenCount, answer.ContentTokenLogProbabilities.Count);
        foreach (var t in answer.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, t.TopLogProbabilities.Count);
            Assert.True(t.LogProbability <= 0);
            Assert.Equal(t.TopLogProbabilities[0].LogProbability, t.LogProbability, 4);
            Assert.Equal(t.TopLogProbabilities[0].Token, t.Token);
            Assert.True(t.TopLogProbabilities[0].LogProbability >= t.TopLogProbabilities[1].LogProbability);
        }
    }
}
