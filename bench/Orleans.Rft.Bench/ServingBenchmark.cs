using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Client.Http;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Bench;

/// <summary>One concurrency level: the endpoint's figures and the engine's direct batched generation of the same prompts.</summary>
public sealed record ServingRow(
    int Clients, int Requests, double RequestsPerSecond, double TokensPerSecond, double LatencyP50Ms, double LatencyP95Ms,
    double TtftP50Ms, double TtftP95Ms, double EngineTokensPerSecond, double EngineBatchMs)
{
    public double RatioToEngine => TokensPerSecond / EngineTokensPerSecond;
}

/// <summary>
/// Requests arriving one at a time while <see cref="Decoding"/> streams decode: the median of their times
/// to first token (<see cref="TtftsMs"/>, one per arrival) in decode steps.
/// </summary>
public sealed record ArrivalProbe(int Decoding, IReadOnlyList<double> TtftsMs, double ServedStepMs, double EngineStepMs)
{
    public double TtftMs => ClientLoad.Percentile(TtftsMs.ToList(), 50);

    /// <summary>
    /// TTFT ÷ the engine's decode-step time at batch 32 (measured in the same run). The served streams'
    /// own median gap between tokens (<see cref="ServedStepMs"/>) is reported beside it: it is the step
    /// time only when the server streams token by token, not when a batch's tokens arrive at its end.
    /// </summary>
    public double StepsToFirstToken => TtftMs / EngineStepMs;
}

/// <summary>
/// <c>/v1/chat/completions</c> of an in-process serving host (<c>rft serve</c>'s) on a preset, under
/// 1, 8, 32 and 64 concurrent clients, non-streaming (requests/s, tokens/s, latency) and streaming
/// (time to first token), beside the engine's direct <see cref="Sampler.Generate"/> of the same
/// prompts with the same settings (batch = clients) in the same run. Every request samples
/// <c>max_tokens</c> tokens (<c>ignore_eos</c>), so both sides produce the same token counts.
/// </summary>
public static class ServingBenchmark
{
    const string ModelName = "bench";
    const int Arrivals = 7, WarmUpRequests = 6;

    public static async Task<(List<ServingRow> Rows, ArrivalProbe Probe, long Parameters)> Run(string preset, IReadOnlyList<int> clients, int maxTokens, int rounds)
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-bench", $"serving-{preset}", ModelName);
        long parameters;
        using (var created = TinyModelPresets.Create(preset, dir, seed: 0)) parameters = created.Config.ParameterCount;
        var maxClients = clients.Max();
        var conversations = Enumerable.Range(0, Math.Max(maxClients * rounds, 32))
            .Select(i => (IReadOnlyList<ChatMessage>)[ChatMessage.User($"Question {i}: what is {i % 17} + {i * 7 % 13}? Answer with the number only.")]).ToList();

        // The engine alone first, while nothing else runs: the same prompts, rendered by the same template.
        var engine = new Dictionary<int, (double TokensPerSecond, double BatchMs)>();
        double engineStepMs = 0;
        // On a thread of its own, as the server's device worker samples: libtorch's thread settings are per thread.
        var direct = new Thread(() =>
        {
            using var model = LanguageModel.Load(dir);
            var ids = conversations.Select(c => model.Template.Encode(model.Tokenizer, c).Ids).ToList();
            var options = new SamplingOptions(Temperature: 1.0, MaxTokens: maxTokens, Seed: 1, IgnoreEos: true);
            Sampler.Generate(model, ids.Take(2).ToList(), options); // warm-up
            foreach (var c in clients)
            {
                var seconds = Median(() => Sampler.Generate(model, ids.Take(c).ToList(), options), 3);
                engine[c] = (c * maxTokens / seconds, seconds * 1000);
            }
            // A decode step of a batch of 32: (time for maxTokens − time for 1 token) ÷ (maxTokens − 1), prefill cancelled out.
            var b32 = ids.Take(32).ToList();
            var one = Median(() => Sampler.Generate(model, b32, options with { MaxTokens = 1 }), 3);
            var all = Median(() => Sampler.Generate(model, b32, options), 3);
            engineStepMs = (all - one) / (maxTokens - 1) * 1000;
        }) { Name = "bench-engine" };
        direct.Start();
        direct.Join();

        var port = ClusterConnection.FreePort();
        var silo = ServeCommand.Options(ModelName, dir, [], port, apiKey: null, device: "cpu",
            artifacts: Path.Combine(Path.GetTempPath(), "orleans-rft-bench", $"serving-artifacts-{Environment.ProcessId}"));
        using var host = await ClusterConnection.StartServingAsync(silo, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/v1/"), Timeout = TimeSpan.FromMinutes(10) };
        await Complete(http, conversations[0], maxTokens, seed: 0); // loads the model
        // Steady state, as the engine side is measured after its warm-up: the first requests through
        // Kestrel, JSON and the grains run code the JIT has not yet optimised (tiered compilation
        // recompiles a method after 30 calls), measured at 1.7, 1.3, 1.0 s for what then takes 0.8 s.
        for (int i = 0; i < WarmUpRequests; i++) await Complete(http, conversations[i % conversations.Count], maxTokens, seed: i);
        await Load(8, 2, i => Complete(http, conversations[i], maxTokens, i));
        await Load(8, 2, i => Stream(http, conversations[i], maxTokens, i, _ => { }));

        var rows = new List<ServingRow>();
        foreach (var c in clients)
        {
            var plain = await Load(c, rounds, i => Complete(http, conversations[i], maxTokens, i));
            var streamed = await Load(c, rounds, i => Stream(http, conversations[i], maxTokens, i, _ => { }));
            rows.Add(new ServingRow(c, c * rounds, c * rounds / plain.Seconds, plain.Tokens / plain.Seconds,
                ClientLoad.Percentile(plain.LatenciesMs, 50), ClientLoad.Percentile(plain.LatenciesMs, 95),
                ClientLoad.Percentile(streamed.TtftsMs, 50), ClientLoad.Percentile(streamed.TtftsMs, 95),
                engine[c].TokensPerSecond, engine[c].BatchMs));
            Console.Error.WriteLine($"{c} client(s): {rows[^1].TokensPerSecond:F0} tok/s served, {rows[^1].EngineTokensPerSecond:F0} engine");
        }
        return (rows, await Arrival(http, conversations, maxTokens, engineStepMs), parameters);
    }

    /// <summary>
    /// 31 long streams decode; once each has its first token, one more request arrives, and when it has
    /// ended another, <see cref="Arrivals"/> times (one arrival is one sample of where in the running
    /// step it lands). Their TTFTs are divided by the engine's step time at batch 32; the gaps between
    /// the streams' tokens around the arrivals are reported beside it (what the server actually does).
    /// </summary>
    static async Task<ArrivalProbe> Arrival(HttpClient http, List<IReadOnlyList<ChatMessage>> conversations, int maxTokens, double engineStepMs)
    {
        const int decoding = 31;
        var started = new CountdownEvent(decoding);
        var gaps = new List<double>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var background = Enumerable.Range(0, decoding).Select(i => Task.Run(async () =>
        {
            double last = -1;
            bool first = true;
            try
            {
                await Stream(http, conversations[i], maxTokens * 4, 1000 + i, _ =>
                {
                    var now = clock.Elapsed.TotalMilliseconds;
                    if (first) { first = false; started.Signal(); }
                    else lock (gaps) gaps.Add(now - last);
                    last = now;
                }, stop.Token);
            }
            catch (OperationCanceledException) { }
        })).ToList();
        while (!started.Wait(TimeSpan.FromSeconds(1)))
        {
            if (background.FirstOrDefault(t => t.IsFaulted) is { } failed) throw failed.Exception!.InnerException!;
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("the 31 background streams did not all start within 5 minutes.");
        }
        await Task.Delay(200); // all of them decoding, none in prefill
        int from;
        lock (gaps) from = gaps.Count;
        var ttfts = new List<double>();
        for (int a = 0; a < Arrivals; a++)
        {
            ttfts.Add((await Stream(http, conversations[decoding], 8, 2000 + a, _ => { })).TtftMs);
            await Task.Delay(37 * (a + 1) % 50); // land at other points of the running step
        }
        List<double> during;
        lock (gaps) during = gaps.Skip(from).ToList();
        stop.Cancel();
        await Task.WhenAll(background);
        return new ArrivalProbe(decoding, ttfts, ClientLoad.Percentile(during, 50), engineStepMs);
    }

    sealed record Measured(double Seconds, long Tokens, List<double> LatenciesMs, List<double> TtftsMs);
    sealed record Answer(long Tokens, double LatencyMs, double TtftMs);

    /// <summary><paramref name="clients"/> concurrent clients, each sending <paramref name="rounds"/> requests one after another.</summary>
    static async Task<Measured> Load(int clients, int rounds, Func<int, Task<Answer>> send)
    {
        var (seconds, all) = await ClientLoad.Run(clients, rounds, send);
        return new Measured(seconds, all.Sum(a => a.Tokens), all.Select(a => a.LatencyMs).ToList(), all.Select(a => a.TtftMs).ToList());
    }

    static JsonObject Request(IReadOnlyList<ChatMessage> conversation, int maxTokens, long seed, bool stream)
    {
        var request = new JsonObject
        {
        ["model"] = ModelName,
        ["messages"] = new JsonArray(conversation.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 1.0,
        ["seed"] = seed,
        ["ignore_eos"] = true, // vLLM's extra, honoured by our endpoint: every request yields max_tokens tokens, as the engine side does
        ["stream"] = stream,
        ["return_token_ids"] = stream, // a chunk per token, even one whose bytes end mid-character (empty text)
        };
        if (stream) request["stream_options"] = new JsonObject { ["include_usage"] = true };
        return request;
    }

    static async Task<Answer> Complete(HttpClient http, IReadOnlyList<ChatMessage> conversation, int maxTokens, long seed)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync("chat/completions", Request(conversation, maxTokens, seed, stream: false));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"chat/completions answered {(int)response.StatusCode}: {body}");
        var latency = clock.Elapsed.TotalMilliseconds;
        var tokens = (long?)JsonNode.Parse(body)!["usage"]?["completion_tokens"] ?? throw new InvalidOperationException($"no usage in {body}");
        return new Answer(tokens, latency, latency);
    }

    static async Task<Answer> Stream(HttpClient http, IReadOnlyList<ChatMessage> conversation, int maxTokens, long seed, Action<string> onChunk, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonContent.Create(Request(conversation, maxTokens, seed, stream: true)) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"chat/completions answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
        double ttft = double.NaN;
        long tokens = 0;
        await using var body = await response.Content.ReadAsStreamAsync(cancellation);
        await foreach (var data in ServerSentEvents.ReadDataAsync(body, cancellation))
        {
            if (data == "[DONE]") break;
            var chunk = JsonNode.Parse(data)!;
            if (chunk["usage"] is JsonObject usage) tokens = (long?)usage["completion_tokens"] ?? tokens;
            // a token is a chunk with token_ids (return_token_ids), whether or not its bytes complete a character yet
            if (chunk["choices"] is JsonArray { Count: > 0 } choices && choices[0]?["token_ids"] is JsonArray { Count: > 0 })
            {
                if (double.IsNaN(ttft)) ttft = clock.Elapsed.TotalMilliseconds;
                onChunk(data);
            }
        }
        return new Answer(tokens, clock.Elapsed.TotalMilliseconds, ttft);
    }

    static double Median(Action action, int repeats)
    {
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalSeconds);
            if (Environment.GetEnvironmentVariable("RFT_BENCH_DEBUG") == "1") Console.Error.WriteLine($"engine run {i}: {times[^1] * 1000:F0} ms");
        }
        return ClientLoad.Percentile(times, 50);
    }
}
