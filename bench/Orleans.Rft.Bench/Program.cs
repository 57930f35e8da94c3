using System.Text;
using System.Text.Json.Nodes;
using Orleans.Rft.Bench;
using static TorchSharp.torch;

// Engine throughput beside a plain PyTorch peer, in one run on this machine; with --cluster JOB.yaml
// instead, the orchestration overhead of the embedded cluster on that job.
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- [--presets tiny,small-25m] [--batches 1,16,64] [--no-peer] [--repeats 3]
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --cluster examples/arithmetic/job.yaml [--steps 30]
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --chat [--chars 16000] [--repeats 51] [--tokenizer MODEL_DIR]
if (args.Contains("--chat"))
{
    // Chat template cost: render + assistant spans + tokenize a ~4k-token conversation (16 KB of text).
    var source = File.ReadAllText(Path.Combine(FindRepoRoot(), "tests", "Orleans.Rft.Engine.Tests", "ChatTemplates", "templates", "qwen2.5.jinja"));
    var tokenizerDir = Arg("--tokenizer", "") is { Length: > 0 } t ? t : null;
    var c = ChatTemplateBenchmark.Run(source, int.Parse(Arg("--chars", "16000")), int.Parse(Arg("--repeats", "51")), tokenizerDir);
    Console.WriteLine($"| template | turns | chars | tokens ({(tokenizerDir is null ? "tiny byte-level tokenizer" : Path.GetFileName(Path.GetFullPath(tokenizerDir).TrimEnd('/')))}) | render ms | render + assistant spans ms | render + spans + tokenize ms | of which: one tokenizer pass ms |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    Console.WriteLine($"| Qwen2.5 | {c.Turns} | {c.Chars} | {c.Tokens} | {c.RenderMs:F2} | {c.SegmentsMs:F2} | {c.EncodeMs:F2} | {c.TokenizeOnceMs:F2} |");
    return;
}
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --serving [--preset small-25m] [--clients 1,8,32,64] [--max-tokens 64] [--rounds 2]   (RFT_BENCH_DEBUG=1: each engine run's time)
if (args.Contains("--serving"))
{
    var servingPreset = Arg("--preset", "small-25m");
    var clients = Arg("--clients", "1,8,32,64").Split(',').Select(int.Parse).ToList();
    int maxTokens = int.Parse(Arg("--max-tokens", "64")), rounds = int.Parse(Arg("--rounds", "2"));
    var (rows, probe, parameters) = await ServingBenchmark.Run(servingPreset, clients, maxTokens, rounds);
    Console.WriteLine($"serving {servingPreset} ({parameters / 1e6:F1}M parameters, CPU, {Environment.ProcessorCount} threads), {maxTokens} tokens a request, {rounds} requests a client; engine = Sampler.Generate of the same prompts, batch = clients");
    Console.WriteLine("| clients | requests | req/s | tok/s | p50 latency ms | p95 latency ms | TTFT p50 ms (stream) | TTFT p95 ms | engine tok/s | engine batch ms | HTTP ÷ engine |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var r in rows)
        Console.WriteLine($"| {r.Clients} | {r.Requests} | {r.RequestsPerSecond:F2} | {r.TokensPerSecond:F0} | {r.LatencyP50Ms:F0} | {r.LatencyP95Ms:F0} | {r.TtftP50Ms:F0} | {r.TtftP95Ms:F0} | {r.EngineTokensPerSecond:F0} | {r.EngineBatchMs:F0} | {r.RatioToEngine:F2}× |");
    Console.WriteLine($"a request arriving while {probe.Decoding} others decode: first token after {probe.TtftMs:F0} ms (median of {probe.TtftsMs.Count} arrivals: {string.Join(", ", probe.TtftsMs.Select(t => t.ToString("F0")))}) = {probe.StepsToFirstToken:F1} decode steps of the engine at batch 32 ({probe.EngineStepMs:F1} ms); the served streams' median gap between tokens meanwhile: {probe.ServedStepMs:F1} ms");
    var servingJson = new JsonObject
    {
        ["preset"] = servingPreset, ["parameters"] = parameters, ["max_tokens"] = maxTokens, ["rounds"] = rounds, ["threads"] = Environment.ProcessorCount,
        ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
        {
            ["clients"] = r.Clients, ["requests"] = r.Requests, ["requests_per_s"] = Finite(r.RequestsPerSecond), ["tokens_per_s"] = Finite(r.TokensPerSecond),
            ["latency_p50_ms"] = Finite(r.LatencyP50Ms), ["latency_p95_ms"] = Finite(r.LatencyP95Ms), ["ttft_p50_ms"] = Finite(r.TtftP50Ms), ["ttft_p95_ms"] = Finite(r.TtftP95Ms),
            ["engine_tokens_per_s"] = Finite(r.EngineTokensPerSecond), ["engine_batch_ms"] = Finite(r.EngineBatchMs), ["ratio_to_engine"] = Finite(r.RatioToEngine),
        }).ToArray()),
        ["arrival"] = new JsonObject
        {
            ["decoding"] = probe.Decoding, ["ttft_ms"] = Finite(probe.TtftMs), ["ttfts_ms"] = new JsonArray(probe.TtftsMs.Select(t => (JsonNode)Finite(t)).ToArray()), ["engine_step_ms_b32"] = Finite(probe.EngineStepMs),
            ["served_token_gap_ms"] = Finite(probe.ServedStepMs), ["steps_to_first_token"] = Finite(probe.StepsToFirstToken),
        },
    };
    Directory.CreateDirectory(Path.Combine(FindRepoRoot(), "bench", "results"));
    File.WriteAllText(Path.Combine(FindRepoRoot(), "bench", "results", "serving.json"), servingJson.ToJsonString(new() { WriteIndented = true }));
    return;
}
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --remote-agent [--preset tiny] [--concurrency 1,8,32] [--max-tokens 16] [--rounds 4]
if (args.Contains("--remote-agent"))
{
    var remotePreset = Arg("--preset", "tiny");
    var levels = Arg("--concurrency", "1,8,32").Split(',').Select(int.Parse).ToList();
    int remoteTokens = int.Parse(Arg("--max-tokens", "16")), remoteRounds = int.Parse(Arg("--rounds", "4"));
    var (remoteRows, remoteParameters) = await RemoteAgentBenchmark.Run(remotePreset, levels, remoteTokens, remoteRounds);
    Console.WriteLine($"remote agent, {remotePreset} ({remoteParameters / 1e6:F1}M parameters, CPU, {Environment.ProcessorCount} threads): one model call of {remoteTokens} tokens a rollout, {remoteRounds} rollouts a worker; in-cluster = the same generations through the generation service");
    Console.WriteLine("| concurrent | rollouts | remote rollouts/s | in-cluster generations/s | overhead per call | p50 remote ms | p50 in-cluster ms | p50 difference ms |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var r in remoteRows)
        Console.WriteLine($"| {r.Concurrency} | {r.Rollouts} | {r.RolloutsPerSecond:F1} | {r.ClusterPerSecond:F1} | {r.OverheadPercent:F1} % | {r.RemoteP50Ms:F0} | {r.ClusterP50Ms:F0} | {r.OverheadMsPerCall:F0} |");
    var remoteJson = new JsonObject
    {
        ["preset"] = remotePreset, ["parameters"] = remoteParameters, ["max_tokens"] = remoteTokens, ["rounds"] = remoteRounds, ["threads"] = Environment.ProcessorCount,
        ["rows"] = new JsonArray(remoteRows.Select(r => (JsonNode)new JsonObject
        {
            ["concurrency"] = r.Concurrency, ["rollouts"] = r.Rollouts, ["rollouts_per_s"] = Finite(r.RolloutsPerSecond), ["in_cluster_per_s"] = Finite(r.ClusterPerSecond),
            ["overhead_percent"] = Finite(r.OverheadPercent), ["remote_p50_ms"] = Finite(r.RemoteP50Ms), ["in_cluster_p50_ms"] = Finite(r.ClusterP50Ms),
        }).ToArray()),
    };
    Directory.CreateDirectory(Path.Combine(FindRepoRoot(), "bench", "results"));
    File.WriteAllText(Path.Combine(FindRepoRoot(), "bench", "results", "remote-agent.json"), remoteJson.ToJsonString(new() { WriteIndented = true }));
    return;
}
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --tokenizers [MODEL_DIR,MODEL_DIR…] [--ids-out DIR]
if (args.Contains("--tokenizers"))
{
    TokenizerBenchmark.Run(FindRepoRoot(), Arg("--tokenizers", "") is var d && !d.StartsWith("--") ? d : "", Arg("--ids-out", "") is { Length: > 0 } o ? o : null);
    return;
}
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --evaluators [--evaluations 20000]
if (args.Contains("--evaluators")) { foreach (var f in EvaluatorBenchmark.Run(FindRepoRoot(), int.Parse(Arg("--evaluations", "20000")))) Console.WriteLine($"| {f.Evaluator} | {f.Evaluations} | {f.PerSecond:F0} evaluations/s through EvaluatorRunner | {f.DirectPerSecond:F0} evaluations/s direct |"); return; }
if (Arg("--cluster", "") is { Length: > 0 } jobFile)
{
    var f = await ClusterBenchmark.Run(jobFile, int.Parse(Arg("--steps", "30")));
    Console.WriteLine($"| job | steps timed | step wall s | device busy s | orchestration overhead | rollout tok/s cluster | rollout tok/s engine | cluster ÷ engine |");
    Console.WriteLine($"|---|---|---|---|---|---|---|---|");
    Console.WriteLine($"| {jobFile} | {f.Steps} | {f.StepWallSeconds:F1} | {f.EngineSeconds:F1} | {f.Overhead:P1} | {f.ClusterTokensPerSecond:F0} | {f.DirectTokensPerSecond:F0} | {f.ClusterTokensPerSecond / f.DirectTokensPerSecond:F2} |");
    return;
}
var presets = Arg("--presets", "tiny,small-25m").Split(',');
var repeats = int.Parse(Arg("--repeats", "3"));
var batches = Arg("--batches", "1,16,64").Split(',').Select(int.Parse).ToArray();
var withPeer = !args.Contains("--no-peer");
int threads = int.Parse(Arg("--threads", Environment.ProcessorCount.ToString()));
set_num_threads(threads);
var repoRoot = FindRepoRoot();

// The ceiling is taken before and after every preset; MFU divides by the highest of them (see MatmulGflops).
var ceilings = new List<double> { EngineBenchmark.MatmulGflops() };
Console.WriteLine($"float32 matmul ceiling (2048², {threads} threads, median of 9): {ceilings[0]:F1} GFLOP/s");
//   dotnet run -c Release --project bench/Orleans.Rft.Bench -- --decode [--presets …] [--batches 1,16,64] [--repeats N (3)] [--threads 1] [--no-lora]
if (args.Contains("--decode"))
{
    // The model forward alone (decode steps with a KV cache, no sampling): quick to rerun while tuning the model.
    var rows = new List<DecodeFigures>();
    foreach (var preset in presets)
    {
        rows.Add(DecodeBenchmark.Run(preset, batches, repeats, lora: !args.Contains("--no-lora")));
        ceilings.Add(EngineBenchmark.MatmulGflops());
        Console.WriteLine($"{preset}: decode {string.Join(" / ", batches.Select(b => $"{rows[^1].TokensPerSecond[b]:F0}"))} tok/s; ceiling now {ceilings[^1]:F1} GFLOP/s");
    }
    var top = ceilings.Max();
    Console.WriteLine($"\nceilings {string.Join(", ", ceilings.Select(g => $"{g:F0}"))} GFLOP/s; MFU against {top:F0}");
    Console.WriteLine($"| preset | decode tok/s b{string.Join(" / b", batches)} | decode tok per CPU-s | decode MFU @{batches[^1]} (2N) |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var r in rows)
        Console.WriteLine($"| {r.Preset} | {string.Join(" / ", batches.Select(b => $"{r.TokensPerSecond[b]:F0}"))} | {string.Join(" / ", batches.Select(b => $"{r.TokensPerCpuSecond[b]:F0}"))} | {2.0 * r.Parameters * r.TokensPerSecond[batches[^1]] / (top * 1e9):P0} |");
    return;
}
var results = new List<(EngineFigures Engine, DecodeFigures Decode, JsonObject? Peer)>();
foreach (var preset in presets)
{
    var e = EngineBenchmark.Run(preset, batches, repeats);
    Console.WriteLine($"{preset}: engine generation {string.Join(" / ", batches.Select(b => $"{e.GenerationTokensPerSecond[b]:F0}"))} tok/s, training {e.TrainingTokensPerSecond:F0} tok/s");
    var d = DecodeBenchmark.Run(preset, batches, repeats);
    Console.WriteLine($"{preset}: decode forward alone {string.Join(" / ", batches.Select(b => $"{d.TokensPerSecond[b]:F0}"))} tok/s");
    JsonObject? peer = null;
    string? problem = null;
    if (withPeer) peer = PeerBenchmark.Run(repoRoot, preset, threads, repeats, string.Join(',', batches), out problem);
    if (problem is not null) Console.WriteLine($"{preset}: {problem}");
    ceilings.Add(EngineBenchmark.MatmulGflops());
    Console.WriteLine($"{preset}: matmul ceiling after it {ceilings[^1]:F1} GFLOP/s");
    results.Add((e, d, peer));
}
var gflops = ceilings.Max();
var report = new StringBuilder();
report.AppendLine($"float32 matmul ceilings in this run {string.Join(", ", ceilings.Select(g => $"{g:F0}"))} GFLOP/s; MFU against the highest, {gflops:F0}");
report.AppendLine($"| preset | params | engine gen tok/s b{string.Join(" / ", batches)} | peer gen tok/s | gen ×peer | decode forward tok/s | engine train tok/s | peer train tok/s | train ×peer | train MFU (6N) | gen MFU @{batches[^1]} (2N) | gen MFU @{batches[^1]}, prompt tokens counted (2N) | decode MFU @{batches[^1]} (2N) |");
report.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
var json = new JsonObject { ["matmul_gflops"] = gflops, ["matmul_gflops_all"] = new JsonArray(ceilings.Select(g => (JsonNode?)g).ToArray()), ["threads"] = threads, ["presets"] = new JsonObject() };
foreach (var (e, d, peer) in results)
{
    double P(int b) => peer?["generation"]?[b.ToString()]?.GetValue<double>() ?? double.NaN;
    double peerTrain = peer?["training_tokens_per_s"]?.GetValue<double>() ?? double.NaN;
    // MFU: model FLOPs per token (6N for a training token, 2N for a generated one; attention's
    // O(T) term left out) × tokens/s ÷ the measured matmul ceiling.
    var top = batches[^1];
    var trainMfu = 6.0 * e.Parameters * e.TrainingTokensPerSecond / (gflops * 1e9);
    var genMfu = 2.0 * e.Parameters * e.GenerationTokensPerSecond[top] / (gflops * 1e9);
    // Generation also runs the prompt through the model (the prefill): counting those tokens' 2N too is
    // the model work the generation did; the figure beside it counts generated tokens only.
    var genMfuWithPrompt = genMfu * (EngineBenchmark.PromptTokens + EngineBenchmark.NewTokens) / EngineBenchmark.NewTokens;
    var decodeMfu = 2.0 * d.Parameters * d.TokensPerSecond[top] / (gflops * 1e9);
    report.AppendLine($"| {e.Preset} | {e.Parameters / 1e6:F1}M | {string.Join(" / ", batches.Select(b => $"{e.GenerationTokensPerSecond[b]:F0}"))} | " +
        $"{string.Join(" / ", batches.Select(b => $"{P(b):F0}"))} | {string.Join(" / ", batches.Select(b => $"{e.GenerationTokensPerSecond[b] / P(b):F2}×"))} | " +
        $"{string.Join(" / ", batches.Select(b => $"{d.TokensPerSecond[b]:F0}"))} | {e.TrainingTokensPerSecond:F0} | {peerTrain:F0} | " +
        $"{e.TrainingTokensPerSecond / peerTrain:F2}× | {trainMfu:P0} | {genMfu:P0} | {genMfuWithPrompt:P0} | {decodeMfu:P0} |");
    json["presets"]![e.Preset] = new JsonObject
    {
        ["parameters"] = e.Parameters,
        ["engine_generation"] = new JsonObject(batches.Select(b => KeyValuePair.Create(b.ToString(), (JsonNode?)e.GenerationTokensPerSecond[b]))),
        ["decode_forward"] = new JsonObject(batches.Select(b => KeyValuePair.Create(b.ToString(), (JsonNode?)d.TokensPerSecond[b]))),
        ["engine_training"] = e.TrainingTokensPerSecond,
        ["peer"] = peer,
        ["training_mfu_6n"] = trainMfu,
        [$"generation_mfu_2n_b{top}"] = genMfu,
        [$"generation_mfu_2n_with_prompt_b{top}"] = genMfuWithPrompt,
        [$"decode_mfu_2n_b{top}"] = decodeMfu,
    };
}
Console.WriteLine();
Console.Write(report);
Directory.CreateDirectory(Path.Combine(repoRoot, "bench", "results"));
File.WriteAllText(Path.Combine(repoRoot, "bench", "results", "engine.json"), json.ToJsonString(new() { WriteIndented = true }));

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

// NaN (nothing measured, e.g. no token gaps while a batch's tokens arrive at its end) is written as null: JSON has no NaN.
static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.Rft.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
