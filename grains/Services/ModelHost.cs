using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// The models rollout workers sample with. One served model per (device, base model, LoRA shape):
/// the shape is rank, alpha and target modules, read from the adapter's own config, so two jobs on one
/// base with different ranks or alphas each sample their own policy (alpha sets the scale α/r of
/// every LoRA delta: an adapter loaded into a model built with another alpha is another policy).
/// Jobs with the same shape share a model and swap adapter weights in place by (path, version).
/// Models of a device are evicted least recently used first once their parameter bytes pass the
/// budget (the one in use always stays). A model loaded from a leased base model folder keeps that
/// folder pinned in the blob cache until it is evicted (<see cref="ArtifactLease"/>), so the files stay
/// for the next load of another shape. Trainer ranks get their own trainable copy from
/// <see cref="LoadTrainable"/>, outside this budget.
/// Thread safety: the table is shared by every device thread and guarded by a lock; a model is
/// only used, loaded and disposed on its own device's <see cref="DeviceWorker"/> thread (eviction
/// only touches the calling device's models), so no model is disposed while it samples.
/// </summary>
public sealed class ModelHost(long budgetBytes) : IDisposable
{
    public const long DefaultBudgetMiB = 8192;

    readonly object gate = new();
    readonly Dictionary<(string Device, string Model, string Shape), Served> served = new();
    long clock;

    sealed class Served(LanguageModel model, long bytes)
    {
        public LanguageModel Model { get; } = model;
        public long Bytes { get; set; } = bytes;
        public string? AdapterPath { get; set; }
        public int Version { get; set; } = -1;
        public long LastUsed { get; set; }
        public IDisposable? BaseModelFiles { get; init; } // the base model's cache pin, released with the model
    }

    /// <summary>Served models and their parameter bytes (for tests and diagnostics).</summary>
    public IReadOnlyList<(string Device, string Model, string Shape, long Bytes)> Loaded()
    {
        lock (gate) return served.Select(s => (s.Key.Device, s.Key.Model, s.Key.Shape, s.Value.Bytes)).ToList();
    }

    /// <summary>"r=8 alpha=16 targets=k_proj,q_proj": what makes two adapters different policies over one base.</summary>
    public static string Shape(LoraConfig? lora) =>
        lora is null ? "base" : $"r={lora.Rank} alpha={lora.Alpha:R} targets={string.Join(",", lora.Targets.Order(StringComparer.Ordinal))}";

    /// <summary>The policy for generation: the base model with adapter <paramref name="version"/> (no adapter when the path is null).</summary>
    public LanguageModel ForGeneration(DeviceWorker device, string baseModel, string? adapterPath, int version) =>
        ForGeneration(device, baseModel, null, adapterPath, version);

    /// <summary>
    /// As above, for a base model leased from the artifact store: a model loaded here keeps the folder
    /// pinned until it is evicted, so that nothing it may read again is evicted from the blob cache.
    /// </summary>
    public LanguageModel ForGeneration(DeviceWorker device, ArtifactLease baseModel, string? adapterPath, int version) =>
        ForGeneration(device, baseModel.Path, baseModel, adapterPath, version);

    LanguageModel ForGeneration(DeviceWorker device, string baseModel, ArtifactLease? files, string? adapterPath, int version)
    {
        var model = Path.GetFullPath(baseModel);
        var shape = Shape(adapterPath is null ? null : PeftAdapter.ReadConfig(adapterPath));
        Served? entry;
        lock (gate)
        {
            // Without an adapter any served copy of the base will do (its adapter is switched off).
            entry = served.TryGetValue((device.Name, model, shape), out var exact) ? exact
                : adapterPath is null ? served.Where(s => s.Key.Device == device.Name && s.Key.Model == model).OrderByDescending(s => s.Value.LastUsed).Select(s => s.Value).FirstOrDefault()
                : null;
            if (entry is not null) entry.LastUsed = ++clock;
        }
        if (entry is null)
        {
            var loaded = LanguageModel.Load(baseModel, device.Device);
            if (adapterPath is not null) loaded.AttachLora(PeftAdapter.ReadConfig(adapterPath));
            entry = new Served(loaded, ParameterBytes(loaded)) { BaseModelFiles = files?.Share() };
            lock (gate)
            {
                entry.LastUsed = ++clock;
                served[(device.Name, model, shape)] = entry;
            }
            Evict(device.Name, entry);
        }
        if (adapterPath is null)
        {
            if (entry.Model.Lora is not null) entry.Model.Network.SetAdapterEnabled(false);
            entry.AdapterPath = null;
            entry.Version = -1;
        }
        else if (entry.AdapterPath != adapterPath || entry.Version != version)
        {
            PeftAdapter.Load(entry.Model, adapterPath);
            entry.Model.Network.SetAdapterEnabled(true);
            entry.AdapterPath = adapterPath;
            entry.Version = version;
        }
        return entry.Model;
    }

    /// <summary>Disposes this device's least recently used models until its served bytes fit the budget; <paramref name="keep"/> stays.</summary>
    void Evict(string device, Served keep)
    {
        var evicted = new List<Served>();
        lock (gate)
        {
            var mine = served.Where(s => s.Key.Device == device).OrderBy(s => s.Value.LastUsed).ToList();
            long total = mine.Sum(s => s.Value.Bytes);
            foreach (var (key, value) in mine)
            {
                if (total <= budgetBytes) break;
                if (value == keep) continue;
                served.Remove(key);
                evicted.Add(value);
                total -= value.Bytes;
            }
        }
        foreach (var e in evicted)
        {
            e.Model.Dispose(); // on this device's thread: the only one that uses them
            e.BaseModelFiles?.Dispose();
        }
    }

    /// <summary>Σ numel × element size over every parameter and buffer of the network (base and adapter).</summary>
    static long ParameterBytes(LanguageModel model) =>
        model.Network.parameters().Sum(p => p.numel() * p.ElementSize) + model.Network.buffers().Sum(b => b.numel() * b.ElementSize);

    public static LanguageModel LoadTrainable(DeviceWorker device, string baseModel, LoraConfig lora, long seed)
    {
        var model = LanguageModel.Load(baseModel, device.Device);
        model.AttachLora(lora, seed);
        return model;
    }

    public void Dispose()
    {
        lock (gate) foreach (var s in served.Values) { s.Model.Dispose(); s.BaseModelFiles?.Dispose(); }
    }
}
