using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>Refusals in OpenAI's error shape <c>{"error": {message, type, param, code}}</c>, with the status and the field named.</summary>
[Collection(HttpCollection.Name)]
public sealed class HttpErrorTests(HttpFixture fx)
{
    static JsonObject Chat(string model = "toy") => new()
    {
        ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }), ["max_tokens"] = 4,
    };

    static JsonObject Error(JsonObject body)
    {
        var error = Assert.IsType<JsonObject>(body["error"]);
        Assert.Equal(["message", "type", "param", "code"], error.Select(kv => kv.Key));
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        return error;
    }

    [Fact]
    public async Task A_request_without_a_key_or_with_a_wrong_one_is_401_in_OpenAIs_shape()
    {
        foreach (var key in new string?[] { null, "sk-wrong", HttpFixture.Key + "x" })
        {
            using var http = HttpTestClient.Raw(fx.Host, key);
            var (status, body) = await http.PostAsync("v1/chat/completions", Chat());
            Assert.Equal(401, status);
            Assert.Equal("invalid_api_key", Error(body)["code"]!.GetValue<string>());
            using var models = await http.GetAsync("v1/models");
            Assert.Equal(401, (int)models.StatusCode);
        }
    }

    [Fact]
    public async Task Health_endpoints_answer_without_a_key_and_readyz_says_the_silo_is_active()
    {
        using var http = HttpTestClient.Raw(fx.Host, key: null);
        Assert.Equal(200, (int)(await http.GetAsync("healthz")).StatusCode);
        using var ready = await http.GetAsync("readyz");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("Active", body["silo"]!.GetValue<string>());
        Assert.Equal(["cpu"], body["devices"]!.AsArray().Select(d => d!.GetValue<string>()));
    }

    [Fact]
    public async Task An_unknown_model_or_job_is_404_model_not_found()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        foreach (var model in new[] { "no-such-model", "jobs/never-submitted", "jobs/never-submitted/steps/3" })
        {
            var (status, body) = await http.PostAsync("v1/chat/completions", Chat(model));
            Assert.Equal(404, status);
            var error = Error(body);
            Assert.Equal("model_not_found", error["code"]!.GetValue<string>());
            Assert.Equal("model", error["param"]!.GetValue<string>());
            Assert.Contains(model, error["message"]!.GetValue<string>());
        }
        var (s, completion) = await http.PostAsync("v1/completions", new JsonObject { ["model"] = "nope", ["prompt"] = "x" });
        Assert.Equal(404, s);
        Error(completion);
    }

    [Theory]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}""", null)] // truncated JSON
    [InlineData("""[1, 2]""", null)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}]}""", "model")]
    [InlineData("""{"model": "toy", "messages": []}""", "messages")]
    [InlineData("""{"model": "toy", "messages": [{"role": "wizard", "content": "hi"}]}""", "messages")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}""", "messages[0].content")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}""", "temperature")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "temperature": 3}""", "temperature")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "top_p": 0}""", "top_p")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "n": 0}""", "n")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "n": 1.5}""", "n")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}""", "max_tokens")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "stop": 7}""", "stop")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}""", "tool_choice")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}""", "tools[0]")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}""", "top_logprobs")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 21}""", "top_logprobs")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": true}}""", "stream_options")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 0.5}""", "frequency_penalty")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}}""", "response_format")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": 3}}""", "response_format")]
    [InlineData("""{"model": "toy", "messages": ["hi"]}""", "messages")] // a message that is not an object
    [InlineData("""{"model": "toy", "messages": [{"role": "assistant", "tool_calls": [5]}]}""", "messages")]
    [InlineData("""{"model": "toy", "messages": [{"role": "assistant", "tool_calls": [{"function": "f"}]}]}""", "messages")]
    [InlineData("""{"model": "toy", "messages": [{"role": "assistant", "tool_calls": "f"}]}""", "messages")]
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "\ud800"}]}""", "messages[0].content")] // a lone surrogate escape
    [InlineData("""{"model": "toy", "messages": [{"role": "user", "content": "hi"}], "stop": ["\udc00"]}""", "stop[0]")]
    public async Task A_malformed_chat_request_is_400_naming_the_field(string json, string? param)
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/chat/completions", json);
        Assert.Equal(400, status);
        var error = Error(body);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_v1_path_or_method_is_404_in_OpenAIs_shape_and_still_needs_the_key()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        foreach (var (method, path) in new[] { ("POST", "v1/embeddings"), ("GET", "v1/chat/completions"), ("GET", "v1/models/toy/extra") })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(404, (int)response.StatusCode);
            var error = Error(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
            Assert.Contains($"{method} /{path}", error["message"]!.GetValue<string>());
        }
        using var anonymous = HttpTestClient.Raw(fx.Host, key: null);
        Assert.Equal(401, (int)(await anonymous.PostAsync("v1/embeddings", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task A_body_past_Kestrels_size_limit_is_413_in_OpenAIs_shape_not_a_500()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = new JsonObject { ["model"] = "toy", ["prompt"] = new string('a', 31_000_000), ["max_tokens"] = 1 }; // the limit is 30,000,000 bytes
        // Expect: 100-continue, as large uploads do: the refusal comes before the body is sent, so the client reads it instead of a broken pipe.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await http.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        Assert.Contains("too large", Error(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject())["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_prompt_plus_max_tokens_past_the_context_is_400_saying_both_numbers_and_the_limit()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var body = Chat();
        body["max_tokens"] = 5000;
        var (status, response) = await http.PostAsync("v1/chat/completions", body);
        Assert.Equal(400, status);
        var message = Error(response)["message"]!.GetValue<string>();
        int prompt = HttpTestClient.ChatPrompt(fx.Toy.ModelDir, [Engine.Chat.ChatMessage.User("hi")]).Length;
        Assert.Contains("maximum context length is 1024 tokens", message);
        Assert.Contains($"you requested {prompt + 5000} tokens ({prompt} in the messages, 5000 in the completion)", message);

        var (s, completion) = await http.PostAsync("v1/completions", new JsonObject { ["model"] = "toy", ["prompt"] = new string('a', 1030), ["max_tokens"] = 1 });
        Assert.Equal(400, s);
        Assert.Contains("1024", Error(completion)["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_malformed_text_completion_request_is_400_naming_the_field()
    {
        using var http = HttpTestClient.Raw(fx.Host);
        foreach (var (json, param) in new[]
        {
            ("""{"model": "toy"}""", "prompt"),
            ("""{"model": "toy", "prompt": [1, 99999]}""", "prompt"),
            ("""{"model": "toy", "prompt": "x", "echo": true}""", "echo"),
            ("""{"model": "toy", "prompt": "x", "logprobs": 30}""", "logprobs"),
            ("""{"model": "toy", "prompt": "x", "seed": "s"}""", "seed"),
            ("""{"model": "toy", "prompt": "\ud800"}""", "prompt"),
        })
        {
            var (status, body) = await http.PostAsync("v1/completions", json);
            Assert.True(status == 400, $"{json} → {status} {body.ToJsonString()}");
            Assert.Equal(param, Error(body)["param"]!.GetValue<string>());
        }
    }
}
