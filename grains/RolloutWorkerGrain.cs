using Orleans.Placement;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Concurrency;
using Orleans.Rft.Agents;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>
/// Generation on one device (key <c>{silo}|{device}</c>). Reentrant so that concurrent requests run
/// together: every sample row goes to the device's continuous-batching scheduler through
/// <see cref="IGenerationService"/>, where it joins whatever decodes there (other jobs' policy
/// versions, served requests) and leaves when it ends. Every row keeps the seed its own request gives
/// it (<see cref="SamplingOptions.RowSeed"/>(Seed, FirstRow + j)), so what shares the batch never
/// changes a sample. Answers over one message's size leave as pages (<see cref="GenerateResultPages"/>),
/// the rest kept here until read or 10 minutes old.
/// </summary>
[SiloDevicePlacement, DevicePlacementFilter, Reentrant, Immovable] // owns device state: never rebalanced to another silo
public sealed class RolloutWorkerGrain(DeviceRegistry devices, ModelHost host, IArtifactStore artifacts, IGenerationService generation, RolloutWorkerOptions limits,
    AgentFactory agents) : Grain, IRolloutWorkerGrain
{
    static readonly TimeSpan PageLifetime = TimeSpan.FromMinutes(10);

    readonly Dictionary<string, string> localModels = new(); // spec base_model → its folder on this silo when last materialized (it may since be evicted)
    readonly Dictionary<string, (List<GenerateResult> Pages, DateTime Created)> unread = new(); // answer id → its pages

    public async Task<GenerateResult> Generate(GenerateRequest request)
    {
        if (request.N < 1) throw new ArgumentException($"n must be ≥ 1 (got {request.N}).");
        foreach (var stale in unread.Where(u => DateTime.UtcNow - u.Value.Created > PageLifetime).Select(u => u.Key).ToList()) unread.Remove(stale);
        return FirstPage(await Run(request), request.N);
    }

    public Task<GenerateResult> NextPage(string continuation)
    {
        var at = continuation.LastIndexOf(':');
        if (at < 0 || !int.TryParse(continuation[(at + 1)..], out var page) || !unread.TryGetValue(continuation[..at], out var answer) || page >= answer.Pages.Count)
            throw new InvalidOperationException($"rollout worker {this.GetPrimaryKeyString()} holds no page '{continuation}' (pages are kept {PageLifetime.TotalMinutes} minutes, on the activation that answered).");
        if (page == answer.Pages.Count - 1) unread.Remove(continuation[..at]);
        return Task.FromResult(answer.Pages[page]);
    }

    GenerateResult FirstPage(GenerateResult whole, int n)
    {
        var id = Guid.NewGuid().ToString("N");
        var pages = GenerateResultPages.Split(whole.Completions, n, whole.PolicyVersion, whole.EngineSeconds, id, limits.PageBytes);
        if (pages.Count > 1) unread[id] = (pages, DateTime.UtcNow);
        return pages[0];
    }

    async Task<GenerateResult> Run(GenerateRequest request)
    {
        var (_, deviceName) = DeviceKeys.Parse(this.GetPrimaryKeyString());
        var device = devices.Get(deviceName);
        // Both pinned in the blob cache for the request (the base model first: its download trims the
        // cache, which must not evict the adapter); a model loaded for serving keeps its own pin.
        using var baseModel = await LeaseBaseModel(request.BaseModel);
        using var adapter = request.AdapterPath is null ? null : await artifacts.LeaseFolderAsync(request.AdapterPath);
        try
        {
            return await Sample(request, device, baseModel, adapter?.Path);
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            localModels.Remove(request.BaseModel); // a cached file went missing: the next request materializes the folder again
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

    async Task<GenerateResult> Sample(GenerateRequest r, DeviceWorker device, ArtifactLease baseModel, string? adapter)
    {
        var watch = Stopwatch.StartNew();
        if (r.AgentJson is not null) return await SampleWithAgent(r, device, baseModel, adapter, watch);
        var prompts = await device.RunAsync(() =>
        {
            var model = host.ForGeneration(device, baseModel);
            var kwargs = JsonNode.Parse(r.ChatTemplateKwargsJson) as JsonObject; // the job's inference.chat_template_kwargs
            return r.PromptsJson.Select(json => RowPrompt.Render(model, json, kwargs).Ids).ToList();
        });
        var options = new SamplingOptions(r.Temperature, r.TopP, r.TopK, r.MaxTokens, r.Stop, null, null);
        var adapterKey = AdapterKey(r, adapter);
        var rows = Enumerable.Range(0, prompts.Count * r.N).Select(j =>
            new SequenceRequest(baseModel, adapter, adapterKey, prompts[j / r.N], options with { Seed = SamplingOptions.RowSeed(r.Seed, r.FirstRow + j) })).ToList();
        var sequences = await generation.GenerateManyAsync(device.Name, rows); // the rows join one step together: a rerun sees the same batches
        var completions = sequences.Select((s, j) => new GeneratedCompletion(prompts[j / r.N], s.TokenIds, s.PolicyLogProbs, s.Text, s.FinishReason)).ToArray();
        return new GenerateResult(completions, r.AdapterVersion, watch.Elapsed.TotalSeconds, null, 0, completions.Length);
    }

    /// <summary>
    /// Agent rollouts (DESIGN §5): each sample row runs the job's agent to its end, with its own
    /// <see cref="RolloutPolicy"/> seeded from the row's seed; the recorded model calls become the
    /// trajectory (<see cref="AgentCompletions.From"/>). A failed agent fails its row only.
    /// </summary>
    async Task<GenerateResult> SampleWithAgent(GenerateRequest r, DeviceWorker device, ArtifactLease baseModel, string? adapter, Stopwatch watch)
    {
        var agent = agents.For(r.AgentJson!);
        var kwargs = JsonNode.Parse(r.ChatTemplateKwargsJson) as JsonObject;
        var (template, tokenizer, rows) = await device.RunAsync(() =>
        {
            var model = host.ForGeneration(device, baseModel);
            return (model.Template, model.Tokenizer, r.PromptsJson.Select(json => RowPrompt.Render(model, json, kwargs)).ToList());
        });
        var adapterKey = AdapterKey(r, adapter);
        var completions = await Task.WhenAll(Enumerable.Range(0, rows.Count * r.N).Select(async j =>
        {
            var (row, messages, tools, prompt) = rows[j / r.N];
            var options = new SamplingOptions(r.Temperature, r.TopP, r.TopK, r.MaxTokens, r.Stop, null, SamplingOptions.RowSeed(r.Seed, r.FirstRow + j));
            var policy = new RolloutPolicy(generation, device.Name, baseModel, adapter, adapterKey, r.AdapterVersion, template, tokenizer, kwargs, options, r.MaxContextTokens);
            var rolloutId = $"s{r.Step}r{r.FirstRow + j}-{Guid.NewGuid():N}"; // URL-safe: it names /rollouts/{id}/v1
            var ids = new AgentRolloutIds(r.JobId, r.JobId, $"step-{r.Step}", $"{r.FirstRow + j}", rolloutId);
            var rollout = new AgentRollout(rolloutId, row, messages, tools, policy, ids);
            AgentTrajectory trajectory;
            try { trajectory = await agent.RunAsync(rollout, CancellationToken.None); }
            catch (Exception e) { trajectory = AgentTrajectory.Failed(AgentFailureKinds.AgentError, $"the agent failed: {e.Message}", policy.Calls); }
            return AgentCompletions.From(trajectory, prompt, limits.PageBytes);
        }));
        return new GenerateResult(completions, r.AdapterVersion, watch.Elapsed.TotalSeconds, null, 0, completions.Length);
    }

    /// <summary>Names an adapter's loaded weights: its artifact path and policy version (null without an adapter).</summary>
    static string? AdapterKey(GenerateRequest r, string? adapter) => adapter is null ? null : $"{r.AdapterPath}@{r.AdapterVersion}";

    /// <summary>A dataset row as a prompt: its messages (a trailing assistant turn, the reference answer, removed), its tools, and their rendering with the job's chat_template_kwargs.</summary>
    sealed record RowPrompt(JsonObject Row, List<ChatMessage> Messages, List<JsonObject>? Tools, int[] Ids)
    {
        public static RowPrompt Render(Engine.Models.LanguageModel model, string json, JsonObject? kwargs)
        {
            var row = JsonNode.Parse(json)!.AsObject();
            var messages = ChatMessage.ParseList(row["messages"], "messages");
            if (messages.Count > 0 && messages[^1].Role == "assistant") messages.RemoveAt(messages.Count - 1);
            var tools = (row["tools"] as JsonArray)?.Select(t => (JsonObject)t!.DeepClone()).ToList();
            return new RowPrompt(row, messages, tools, model.Template.Encode(model.Tokenizer, messages, tools, kwargs: kwargs).Ids);
        }
    }
}
