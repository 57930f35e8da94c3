using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A silo endpoint with no API key configured (so open, and on loopback only), whose generation
/// service is a probe: it emits one token, then waits until it is cancelled, and records that.
/// </summary>
public sealed class OpenHostFixture : IAsyncLifetime
{
    public HttpFixture Models { get; } = new();
    public HttpHost Host { get; private set; } = null!;
    public CancellationProbe Probe { get; } = new();

    public async Task InitializeAsync()
    {
        await Models.Toy.InitializeModelAndData();
        var options = Models.Options(withKey: false);
        options.Models.Remove("toolbot");
        Host = await HttpHost.StartAsync(options, s => s.AddSingleton<IGenerationService>(Probe));
    }

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        await Models.Toy.DisposeAsync();
    }
}

/// <summary>
/// Asked for log-probs, answers "hi" with fixed ones, as the generation service's contract reports
/// them (<see cref="Scripted"/>); otherwise reports a token at once, then holds the sequence open
/// until the request is cancelled.
/// </summary>
public sealed class CancellationProbe : IGenerationService
{
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static readonly GeneratedToken[] Scripted =
    [
        new('h', -0.7f, -0.6f, new TokenLogProb('h', -0.5f), [new TokenLogProb('h', -0.5f), new TokenLogProb('x', -1.5f)], "h"),
        new('i', -0.3f, -0.2f, new TokenLogProb('i', -0.25f), [new TokenLogProb('i', -0.25f), new TokenLogProb('!', -2f)], "i"),
    ];

    public async Task<GeneratedSequence> GenerateAsync(string device, SequenceRequest request, Action<GeneratedToken>? onToken = null, CancellationToken cancellation = default)
    {
        if (request.Options.LogProbs is not null)
        {
            foreach (var t in Scripted) onToken?.Invoke(t);
            return new GeneratedSequence(Scripted.Select(t => t.Id).ToArray(), Scripted.Select(t => t.SampledLogProb).ToArray(), Scripted.Select(t => t.PolicyLogProb).ToArray(),
                FinishReason.Length, "hi", Scripted.Select(t => t.Raw!.Value.LogProb).ToArray(), Scripted.Select(t => t.Top!).ToArray());
        }
        onToken?.Invoke(new GeneratedToken('a', 0, 0, null, null, "a"));
        try { await Task.Delay(Timeout.Infinite, cancellation); }
        catch (OperationCanceledException) { Cancelled.TrySetResult(); throw; }
        throw new InvalidOperationException("unreachable");
    }
}

public sealed class HttpOpenHostTests(OpenHostFixture fx) : IClassFixture<OpenHostFixture>
{
    [Fact]
    public async Task Without_API_keys_the_endpoint_binds_only_to_loopback_and_asks_for_no_key()
    {
        Assert.NotEmpty(fx.Host.Addresses);
        Assert.All(fx.Host.Addresses, a =>
        {
            var host = new Uri(a).Host.Trim('[', ']');
            Assert.True(host == "localhost" || IPAddress.Parse(host).Equals(IPAddress.Loopback) || IPAddress.Parse(host).Equals(IPAddress.IPv6Loopback), $"bound to {a}");
        });
        using var http = HttpTestClient.Raw(fx.Host, key: null);
        using var models = await http.GetAsync("v1/models");
        Assert.Equal(200, (int)models.StatusCode);
        // Where this machine has another address, nothing answers on it.
        var other = NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (other is not null)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await Assert.ThrowsAnyAsync<SocketException>(() => socket.ConnectAsync(other, fx.Host.Options.HttpPort));
        }
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_stream_cancels_its_generation()
    {
        using var http = HttpTestClient.Raw(fx.Host, key: null);
        var body = new JsonObject
        {
            ["model"] = "toy", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hold" }), ["max_tokens"] = 8, ["stream"] = true,
        };
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") })
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(200, (int)response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var seen = "";
            while (!seen.Contains("\"content\":\"a\"")) seen += await reader.ReadLineAsync() ?? throw new EndOfStreamException("the stream ended before the probe's token");
            Assert.False(fx.Probe.Cancelled.Task.IsCompleted);
        } // the client closes the connection here
        await fx.Probe.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Reported_log_probs_come_back_in_OpenAIs_chat_shape_whole_and_streamed()
    {
        var chat = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(fx.Host.BaseUrl, "v1") }).GetChatClient("toy");
        var options = new OpenAI.Chat.ChatCompletionOptions { MaxOutputTokenCount = 2, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        var whole = (await chat.CompleteChatAsync([new OpenAI.Chat.UserChatMessage("x")], options)).Value;
        var streamed = new List<OpenAI.Chat.ChatTokenLogProbabilityDetails>();
        await foreach (var u in chat.CompleteChatStreamingAsync([new OpenAI.Chat.UserChatMessage("x")], options)) streamed.AddRange(u.ContentTokenLogProbabilities);
        foreach (var tokens in new[] { whole.ContentTokenLogProbabilities.ToList(), streamed })
        {
            Assert.Equal(["h", "i"], tokens.Select(t => t.Token));
            Assert.Equal([-0.5f, -0.25f], tokens.Select(t => t.LogProbability));
            Assert.Equal([(byte)104], tokens[0].Utf8Bytes!.Value.ToArray());
            Assert.Equal(["h", "x"], tokens[0].TopLogProbabilities.Select(t => t.Token));
            Assert.Equal([-0.25f, -2f], tokens[1].TopLogProbabilities.Select(t => t.LogProbability));
        }
    }

    [Fact]
    public async Task Reported_log_probs_come_back_in_the_text_completion_shape()
    {
        using var http = HttpTestClient.Raw(fx.Host, key: null);
        var (status, body) = await http.PostAsync("v1/completions", new JsonObject { ["model"] = "toy", ["prompt"] = "x", ["max_tokens"] = 2, ["logprobs"] = 2 });
        Assert.Equal(200, status);
        Assert.Equal("""{"tokens":["h","i"],"token_logprobs":[-0.5,-0.25],"top_logprobs":[{"h":-0.5,"x":-1.5},{"i":-0.25,"!":-2}],"text_offset":[0,1]}""",
            body["choices"]![0]!["logprobs"]!.ToJsonString());
    }
}
