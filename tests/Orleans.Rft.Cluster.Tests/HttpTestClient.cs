using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The two ways tests call the endpoint: the official OpenAI client, and raw HTTP for exact shapes.</summary>
public static class HttpTestClient
{
    public static OpenAIClient OpenAI(HttpHost host, string key = HttpFixture.Key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(host.BaseUrl, "v1") });

    public static HttpClient Raw(HttpHost host, string? key = HttpFixture.Key)
    {
        var http = new HttpClient { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public static async Task<(int Status, JsonObject Body)> PostAsync(this HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    public static Task<(int Status, JsonObject Body)> PostAsync(this HttpClient http, string path, JsonObject body) => http.PostAsync(path, body.ToJsonString());

    /// <summary>The raw text of a streamed response.</summary>
    public static async Task<string> StreamAsync(this HttpClient http, string path, JsonObject body)
    {
        using var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The JSON chunks of an SSE body, after checking its framing: only <c>data:</c> events separated by blank lines, <c>data: [DONE]</c> last.</summary>
    public static List<JsonObject> Chunks(string sse)
    {
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        return events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!.AsObject()).ToList();
    }

    public static int[] Ints(JsonNode? node) => node!.AsArray().Select(x => x!.GetValue<int>()).ToArray();

    /// <summary>What the engine alone samples (<c>rft model generate</c>'s path): the model folder, with an adapter when given, prompts as given.</summary>
    public static GeneratedSequence Engine(string modelDir, string? adapterDir, int[] prompt, SamplingOptions options)
    {
        using var model = LanguageModel.Load(modelDir);
        if (adapterDir is not null) PeftAdapter.Load(model, adapterDir);
        return Sampler.Generate(model, [prompt], options)[0];
    }

    public static int[] ChatPrompt(string modelDir, IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null)
    {
        using var model = LanguageModel.Load(modelDir);
        return model.Template.Encode(model.Tokenizer, messages, tools).Ids;
    }
}
