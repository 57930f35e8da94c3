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
/// queue while a batch runs; requests for the same policy and sampling settings are then merged into
/// one <see cref="Sampler.Generate"/> call on the device thread (up to <see cref="MaxPromptsPerBatch"/>).
/// </summary>
[SiloDevicePlacement, DevicePlacementFilter, Reentrant, Immovable] // owns device state: never rebalanced to another silo
public sealed class RolloutWorkerGrain(DeviceRegistry devices, ModelHost host, IArtifactStore artifacts) : Grain, IRolloutWorkerGrain
{
    const int MaxPromptsPerBatch = 256;

    readonly List<(GenerateRequest Request, TaskCompletionSource<GenerateResult> Done)> pending = new();
    bool draining;
    readonly Dictionary<string, string> localModels = new(); // spec base_model → folder on this silo

    public Task<GenerateResult> Generate(GenerateRequest request)
    {
        var done = new TaskCompletionSource<GenerateResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending.Add((request, done));
        if (!draining) _ = Drain();
        return done.Task;
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
                    for (int i = 0; i < batch.Count; i++) batch[i].Done.SetResult(results[i]);
                }
                catch (Exception e)
                {
                    foreach (var b in batch) b.Done.TrySetException(e);
                }
            }
        }
        finally { draining = false; }
    }

    async Task<GenerateResult[]> RunBatch(List<GenerateRequest> requests)
    {
        var first = requests[0];
        var (_, deviceName) = DeviceKeys.Parse(this.GetPrimaryKeyString());
        var device = devices.Get(deviceName);
        string? adapter = first.AdapterPath is null ? null : await artifacts.MaterializeAsync(first.AdapterPath);
        if (!localModels.TryGetValue(first.BaseModel, out var baseModel))
            localModels[first.BaseModel] = baseModel = await artifacts.LocalPathAsync(first.BaseModel);
        return await device.RunAsync(() =>
        {
            var watch = Stopwatch.StartNew();
            var model = host.ForGeneration(device, baseModel, adapter, first.AdapterVersion);
            var prompts = new List<int[]>();
            foreach (var r in requests)
                foreach (var json in r.PromptsJson)
                {
                    var row = JsonNode.Parse(json)!.AsObject();
                    var messages = ChatMessage.ParseList(row["messages"], "messages");
                    if (messages.Count > 0 && messages[^1].Role == "assistant") messages.RemoveAt(messages.Count - 1);
                    var tools = (row["tools"] as JsonArray)?.Select(t => (JsonObject)t!.DeepClone()).ToList();
                    var ids = model.Template.Encode(model.Tokenizer, messages, tools).Ids;
                    for (int k = 0; k < r.N; k++) prompts.Add(ids);
                }
            var options = new SamplingOptions(first.Temperature, first.TopP, first.TopK, first.MaxTokens, first.Stop, null, first.Seed);
            var sequences = Sampler.Generate(model, prompts, options);
            var seconds = watch.Elapsed.TotalSeconds;
            var results = new GenerateResult[requests.Count];
            int offset = 0;
            for (int i = 0; i < requests.Count; i++)
            {
                int count = requests[i].PromptsJson.Length * requests[i].N;
                results[i] = new GenerateResult(
                    Enumerable.Range(offset, count).Select(j => new GeneratedCompletion(prompts[j], sequences[j].TokenIds, sequences[j].PolicyLogProbs, sequences[j].Text, sequences[j].FinishReason)).ToArray(),
                    first.AdapterVersion, seconds * count / prompts.Count);
                offset += count;
            }
            return results;
        });
    }
}
