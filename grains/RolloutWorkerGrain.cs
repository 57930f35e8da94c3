using Orleans.Placement;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Concurrency;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>
/// Generation on one device (key <c>{silo}|{device}</c>). Reentrant so that concurrent requests can
/// queue while a batch runs; requests for the same policy and sampling settings are then merged (up to
/// <see cref="MaxPromptsPerBatch"/> samples) and run on the device thread in sub-batches whose KV cache
/// fits <see cref="RolloutWorkerOptions.MaxBatchTokens"/>. Every sample row keeps the seed its own
/// request gives it, so merging and splitting never change a sample. Answers over one message's size
/// leave as pages (<see cref="GenerateResultPages"/>), the rest kept here until read or 10 minutes old.
/// </summary>
[SiloDevicePlacement, DevicePlacementFilter, Reentrant, Immovable] // owns device state: never rebalanced to another silo
public sealed class RolloutWorkerGrain(DeviceRegistry devices, ModelHost host, IArtifactStore artifacts, RolloutWorkerOptions limits) : Grain, IRolloutWorkerGrain
{
    const int MaxPromptsPerBatch = 256;
    static readonly TimeSpan PageLifetime = TimeSpan.FromMinutes(10);

    readonly List<(GenerateRequest Request, TaskCompletionSource<GenerateResult> Done)> pending = new();
    bool draining;
    readonly Dictionary<string, string> localModels = new(); // spec base_model → its folder on this silo when last materialized (it may since be evicted)
    readonly Dictionary<string, (List<GenerateResult> Pages, DateTime Created)> unread = new(); // answer id → its pages

    public Task<GenerateResult> Generate(GenerateRequest request)
    {
        if (request.N < 1) throw new ArgumentException($"n must be ≥ 1 (got {request.N}).");
        foreach (var stale in unread.Where(u => DateTime.UtcNow - u.Value.Created > PageLifetime).Select(u => u.Key).ToList()) unread.Remove(stale);
        var done = new TaskCompletionSource<GenerateResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending.Add((request, done));
        if (!draining) _ = Drain();
        return done.Task;
    }

    public Task<GenerateResult> NextPage(string continuation)
    {
        var at = continuation.LastIndexOf(':');
        if (at < 0 || !int.TryParse(continuation[(at + 1)..], out var page) || !unread.TryGetValue(continuation[..at], out var answer) || page >= answer.Pages.Count)
            throw new InvalidOperationException($"rollout worker {this.GetPrimaryKeyString()} holds no page '{continuation}' (pages are kept {PageLifetime.TotalMinutes} minutes, on the activation that answered).");
        if (page == answer.Pages.Count - 1) unread.Remove(continuation[..at]);
        return Task.FromResult(answer.Pages[page]);
    }

    static bool SamePolicy(GenerateRequest a, GenerateRequest b) =>
        a.BaseModel == b.BaseModel && a.AdapterPath == b.AdapterPath && a.AdapterVersion == b.AdapterVersion &&
        a.Temperature == b.Temperature && a.TopP == b.TopP && a.TopK == b.TopK && a.MaxTokens == b.MaxTokens && a.Stop.SequenceEqual(b.Stop);

    async Task Drain()
    {
        draining = true;
        try
        {
            while (pending.Count > 0)
            {
                var first = pending[0].Request;
                var batch = new List<(GenerateRequest Request, TaskCompletionSource<GenerateResult> Done)>();
                int prompts = 0;
                foreach (var p in pending.Where(p => SamePolicy(p.Request, first)).ToList())
                {
                    if (batch.Count > 0 && prompts + p.Request.PromptsJson.Length * p.Request.N > MaxPromptsPerBatch) break;
                    batch.Add(p);
                    prompts += p.Request.PromptsJson.Length * p.Request.N;
                }
                foreach (var p in batch) pending.Remove(p);
                try
                {
                    var results = await RunBatch(batch.Select(b => b.Request).ToList());
                    for (int i = 0; i < batch.Count; i++) batch[i].Done.SetResult(FirstPage(results[i], batch[i].Request.N));
                }
                catch (Exception e)
                {
                    foreach (var b in batch) b.Done.TrySetException(e);
                }
            }
        }
        finally { draining = false; }
    }

    GenerateResult FirstPage(GenerateResult whole, int n)
    {
        var id = Guid.NewGuid().ToString("N");
        var pages = GenerateResultPages.Split(whole.Completions, n, whole.PolicyVersion, whole.EngineSeconds, id, limits.PageBytes);
        if (pages.Count > 1) unread[id] = (pages, DateTime.UtcNow);
        return pages[0];
    }

    async Task<GenerateResult[]> RunBatch(List<GenerateRequest> requests)
    {
        var first = requests[0];
        var (_, deviceName) = DeviceKeys.Parse(this.GetPrimaryKeyString());
        var device = devices.Get(deviceName);
        // Both pinned in the blob cache for the batch (the base model first: its download trims the
        // cache, which must not evict the adapter); a model loaded for serving keeps its own pin.
        using var baseModel = await LeaseBaseModel(first.BaseModel);
        using var adapter = first.AdapterPath is null ? null : await artifacts.LeaseFolderAsync(first.AdapterPath);
        try
        {
            return await Sample(requests, device, baseModel, adapter?.Path);
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            localModels.Remove(first.BaseModel); // a cached file went missing: the next batch materializes the folder again
            throw;
        }
    }

    /// <summary>The base model's folder as last materialized if the cache still holds it (no store round trip per batch), else materialized again.</summary>
    async Task<ArtifactLease> LeaseBaseModel(string reference)
    {
        if (localModels.TryGetValue(reference, out var known) && artifacts.TryPin(known) is { } pin)
        {
            if (Directory.Exists(known) || File.Exists(known)) return new ArtifactLease(artifacts, known, pin);
            pin.Dispose();
        }
        var lease = await artifacts.LeaseAsync(reference, "base_model");
        localModels[reference] = lease.Path;
        return lease;
    }

    Task<GenerateResult[]> Sample(List<GenerateRequest> requests, DeviceWorker device, ArtifactLease baseModel, string? adapter)
    {
        var first = requests[0];
        return device.RunAsync(() =>
        {
            var watch = Stopwatch.StartNew();
            var model = host.ForGeneration(device, baseModel, adapter, first.AdapterVersion);
            var prompts = new List<int[]>();
            var seeds = new List<long>();
            foreach (var r in requests)
            {
                var kwargs = JsonNode.Parse(r.ChatTemplateKwargsJson) as JsonObject; // the job's inference.chat_template_kwargs
                for (int p = 0; p < r.PromptsJson.Length; p++)
                {
                    var row = JsonNode.Parse(r.PromptsJson[p])!.AsObject();
                    var messages = ChatMessage.ParseList(row["messages"], "messages");
                    if (messages.Count > 0 && messages[^1].Role == "assistant") messages.RemoveAt(messages.Count - 1);
                    var tools = (row["tools"] as JsonArray)?.Select(t => (JsonObject)t!.DeepClone()).ToList();
                    var ids = model.Template.Encode(model.Tokenizer, messages, tools, kwargs: kwargs).Ids;
                    for (int k = 0; k < r.N; k++)
                    {
                        prompts.Add(ids);
                        seeds.Add(SamplingOptions.RowSeed(r.Seed, r.FirstRow + p * r.N + k));
                    }
                }
            }
            var options = new SamplingOptions(first.Temperature, first.TopP, first.TopK, first.MaxTokens, first.Stop, null, null);
            var sequences = new GeneratedSequence[prompts.Count];
            foreach (var group in BatchPlanner.Split(prompts.Select(p => p.Length).ToList(), first.MaxTokens, limits.MaxBatchTokens))
            {
                var generated = Sampler.Generate(model, group.Select(i => prompts[i]).ToList(), options with { RowSeeds = group.Select(i => seeds[i]).ToList() });
                for (int g = 0; g < group.Length; g++) sequences[group[g]] = generated[g];
            }
            var seconds = watch.Elapsed.TotalSeconds;
            var results = new GenerateResult[requests.Count];
            int offset = 0;
            for (int i = 0; i < requests.Count; i++)
            {
                int count = requests[i].PromptsJson.Length * requests[i].N;
                results[i] = new GenerateResult(
                    Enumerable.Range(offset, count).Select(j => new GeneratedCompletion(prompts[j], sequences[j].TokenIds, sequences[j].PolicyLogProbs, sequences[j].Text, sequences[j].FinishReason)).ToArray(),
                    first.AdapterVersion, seconds * count / Math.Max(1, prompts.Count), null, 0, count);
                offset += count;
            }
            return results;
        });
    }
}
