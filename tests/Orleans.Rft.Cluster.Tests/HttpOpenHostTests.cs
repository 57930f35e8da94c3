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

/// <summary>Reports a token at once, then holds the sequence open until the request is cancelled.</summary>
public sealed class CancellationProbe : IGenerationService
{
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<GeneratedSequence> GenerateAsync(string device, SequenceRequest request, Action<GeneratedToken>? onToken = null, CancellationToken cancellation = default)
    {
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
}
