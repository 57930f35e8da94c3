using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The endpoint's JSON and SSE shapes, read raw: n, seeds, token ids, text completions, framing.</summary>
[Collection(HttpCollection.Name)]
public sealed class HttpWireFormatTests(HttpFixture fx)
{
    [Fact]
    public void Text_offsets_count_only_characters_that_appear_in_the_text_so_a_special_token_adds_none()
    {
        // With ignore_eos the model may sample its end-of-text token: listed among the tokens, left out of the text.
        var files = Orleans.Rft.Silo.Http.ModelFiles.Load(fx.Toy.ModelDir);
        int eos = files.Tokenizer.EosTokenId!.Value;
        int[] a = files.Tokenizer.Encode("a", addSpecialTokens: false), b = files.Tokenizer.Encode("b", addSpecialTokens: false);
        Assert.True(files.Tokenizer.IsSpecial(eos) && a.Length == 1 && b.Length == 1);
        var tokens = new[] { a[0], eos, b[0] }.Select(id => new Orleans.Rft.Silo.Http.TokenLogProbs(id, new TokenLogProb(id, -1f), [])).ToList();
        var json = Orleans.Rft.Silo.Http.TokenLogProbs.ToCompletionJson(tokens, files);
        Assert.Equal([0, 1, 1], HttpTestClient.Ints(json["text_offset"])); // the text is "ab": b starts at 1
    }

    static JsonObject Chat(string model, string user, int maxTokens, double temperature = 0) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }),
        ["max_tokens"] = maxTokens,
        ["temperature"] = temperature,
    };

    [Fact]
    public async Task N_seeded_choices_are_each_the_engines_sample_with_that_choices_row_seed_and_repeat_exactly()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = Chat("toy", "sample me", 8, temperature: 1.0);
        body["n"] = 3;
        body["seed"] = 42;
        body["return_token_ids"] = true;
        var (status, first) = await http.PostAsync("v1/chat/completions", body);
        Assert.Equal(200, status);
        var (_, again) = await http.PostAsync("v1/chat/completions", body);
        var prompt = HttpTestClient.Ints(first["prompt_token_ids"]);
        Assert.Equal(HttpTestClient.ChatPrompt(fx.Toy.ModelDir, [ChatMessage.User("sample me")]), prompt);
        var choices = first["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        var distinct = new HashSet<string>();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, choices[i]!["index"]!.GetValue<int>());
            var ids = HttpTestClient.Ints(choices[i]!["token_ids"]);
            Assert.Equal(ids, HttpTestClient.Ints(again["choices"]![i]!["token_ids"]));
            var engine = HttpTestClient.Engine(fx.Toy.ModelDir, null, prompt, new SamplingOptions(Temperature: 1.0, MaxTokens: 8, RowSeeds: [SamplingOptions.RowSeed(42, i)]));
            Assert.Equal(engine.TokenIds, ids);
            Assert.Equal(engine.Text, choices[i]!["message"]!["content"]!.GetValue<string>());
            distinct.Add(string.Join(",", ids));
        }
        Assert.True(distinct.Count > 1, "three seeded rows all sampled the same tokens: the rows do not get their own seeds");
        Assert.Equal(prompt.Length, first["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(choices.Sum(c => HttpTestClient.Ints(c!["token_ids"]).Length), first["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_text_completion_is_the_engines_greedy_continuation_of_the_prompt_text_for_every_prompt()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/completions", new JsonObject
        {
            ["model"] = "toy", ["prompt"] = new JsonArray("Once upon", "a time"), ["max_tokens"] = 10, ["temperature"] = 0, ["n"] = 2, ["return_token_ids"] = true,
        });
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body["object"]!.GetValue<string>());
        var choices = body["choices"]!.AsArray();
        Assert.Equal(4, choices.Count); // 2 prompts × n = 2, numbered prompt by prompt
        using var model = Engine.Models.LanguageModel.Load(fx.Toy.ModelDir);
        for (int i = 0; i < 4; i++)
        {
            var prompt = model.Tokenizer.Encode(i < 2 ? "Once upon" : "a time", addSpecialTokens: true);
            Assert.Equal(prompt, HttpTestClient.Ints(choices[i]!["prompt_token_ids"]));
            var engine = Sampler.Generate(model, [prompt], new SamplingOptions(Temperature: 0, MaxTokens: 10))[0];
            Assert.Equal(engine.TokenIds, HttpTestClient.Ints(choices[i]!["token_ids"]));
            Assert.Equal(engine.Text, choices[i]!["text"]!.GetValue<string>());
            Assert.Equal(engine.FinishReason, choices[i]!["finish_reason"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_streamed_chat_is_data_events_ending_with_done_and_its_deltas_add_up_to_the_whole_answer()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = Chat("toy", "frame me", 10);
        var (_, whole) = await http.PostAsync("v1/chat/completions", body);
        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        body["return_token_ids"] = true;
        var chunks = HttpTestClient.Chunks(await http.StreamAsync("v1/chat/completions", body));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var withChoices = chunks.Where(c => c["choices"]!.AsArray().Count > 0).ToList();
        var text = string.Concat(withChoices.Select(c => c["choices"]![0]!["delta"]!["content"]?.GetValue<string>() ?? ""));
        Assert.Equal(whole["choices"]![0]!["message"]!["content"]!.GetValue<string>(), text);
        var ids = withChoices.SelectMany(c => c["choices"]![0]!["token_ids"] is JsonArray a ? HttpTestClient.Ints(a) : []).ToArray();
        Assert.Equal(whole["usage"]!["completion_tokens"]!.GetValue<int>(), ids.Length);
        Assert.Equal(whole["choices"]![0]!["finish_reason"]!.GetValue<string>(), withChoices[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(whole["usage"]!.ToJsonString(), usage["usage"]!.ToJsonString());
    }

    [Fact]
    public async Task A_streamed_text_completion_ends_with_done_and_adds_up_to_the_whole_text()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = new JsonObject { ["model"] = "toy", ["prompt"] = "stream", ["max_tokens"] = 8, ["temperature"] = 0 };
        var (_, whole) = await http.PostAsync("v1/completions", body);
        body["stream"] = true;
        var chunks = HttpTestClient.Chunks(await http.StreamAsync("v1/completions", body));
        Assert.All(chunks, c => Assert.Equal("text_completion", c["object"]!.GetValue<string>()));
        Assert.Equal(whole["choices"]![0]!["text"]!.GetValue<string>(), string.Concat(chunks.Select(c => c["choices"]![0]!["text"]!.GetValue<string>())));
        Assert.Equal(whole["choices"]![0]!["finish_reason"]!.GetValue<string>(), chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    /// <summary>
    /// OpenAI's completions logprobs: parallel lists over the generated tokens, offsets that add up the
    /// token texts, alternatives most likely first. Needs a generation service that reports raw log-probs.
    /// </summary>
    [Fact]
    public async Task Completion_logprobs_are_parallel_lists_over_the_generated_tokens()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/completions", new JsonObject
        {
            ["model"] = "toy", ["prompt"] = "log", ["max_tokens"] = 6, ["temperature"] = 0, ["logprobs"] = 2, ["return_token_ids"] = true,
        });
        Assert.True(status == 200, body.ToJsonString());
        var choice = body["choices"]![0]!;
        var ids = HttpTestClient.Ints(choice["token_ids"]);
        var lp = choice["logprobs"]!;
        var tokens = lp["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Equal(ids.Length, tokens.Count);
        Assert.Equal(ids.Length, lp["token_logprobs"]!.AsArray().Count);
        Assert.Equal(ids.Length, lp["top_logprobs"]!.AsArray().Count);
        var offsets = HttpTestClient.Ints(lp["text_offset"]);
        for (int i = 1; i < offsets.Length; i++) Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        for (int i = 0; i < ids.Length; i++)
        {
            var top = lp["top_logprobs"]![i]!.AsObject();
            Assert.InRange(top.Count, 1, 2);
            Assert.Equal(top.Max(kv => kv.Value!.GetValue<double>()), lp["token_logprobs"]![i]!.GetValue<double>(), 4); // greedy: the token is the likeliest
        }
    }

    static JsonObject WeatherRequest() => new()
    {
        ["model"] = "toolbot",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = HttpFixture.WeatherQuestion }),
        ["tools"] = new JsonArray(HttpFixture.WeatherTool),
        ["max_tokens"] = 96, ["temperature"] = 0,
    };

    [Fact]
    public async Task With_tool_choice_none_a_tool_call_the_model_writes_stays_text()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = WeatherRequest();
        body["tool_choice"] = "none";
        var (status, response) = await http.PostAsync("v1/chat/completions", body);
        Assert.Equal(200, status);
        var choice = response["choices"]![0]!;
        Assert.Equal(HttpFixture.ToolCallText, choice["message"]!["content"]!.GetValue<string>());
        Assert.Null(choice["message"]!["tool_calls"]);
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tool_call_cut_off_mid_JSON_comes_back_as_text_not_an_error()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = WeatherRequest();
        body["stop"] = "}}"; // ends the answer inside the call's JSON
        var (status, response) = await http.PostAsync("v1/chat/completions", body);
        Assert.Equal(200, status);
        var choice = response["choices"]![0]!;
        Assert.Equal(HttpFixture.ToolCallText[..HttpFixture.ToolCallText.IndexOf("}}", StringComparison.Ordinal)], choice["message"]!["content"]!.GetValue<string>());
        Assert.Null(choice["message"]!["tool_calls"]);
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
    }
}
