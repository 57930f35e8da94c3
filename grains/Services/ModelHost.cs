using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// The models a device samples with. One served base model per (device, base model folder), with
/// its continuous-batching scheduler (stepped by the device's <see cref="DeviceWorker"/>): every
/// adapter over that base — any rank, alpha and target set — rides in the same batch as its own
/// <see cref="LoraWeights"/>, loaded once per (device, base, adapter key). Bases are evicted least
/// recently used once their parameter bytes pass <c>budgetBytes</c>, adapters once theirs pass
/// <c>adapterBudgetBytes</c>; neither while a call uses it (<see cref="Lease"/>), and a base never while
/// its scheduler has rows. A base loaded from a leased folder keeps that folder pinned in the blob cache
/// until it is evicted (<see cref="ArtifactLease"/>). Trainer ranks get their own trainable copy from
/// <see cref="LoadTrainable"/>, outside these budgets.
/// Thread safety: the tables are shared by every device thread and guarded by a lock; a model and its
/// adapters are only loaded, used and disposed on their own device's thread (eviction only touches
/// the calling device's entries). <see cref="Lease.Dispose"/> may run on any thread: it only counts.
/// </summary>
public sealed class ModelHost(long budgetBytes, long adapterBudgetBytes = ModelHost.DefaultAdapterBudgetMiB << 20, BatcherOptions? batching = null) : IDisposable
{
    public const long DefaultBudgetMiB = 8192;
    public const long DefaultAdapterBudgetMiB = 1024;

    readonly object gate = new();
    readonly Dictionary<(string Device, string Model), ServedBase> bases = new();
    readonly Dictionary<(string Device, string Model, string Key), ServedAdapter> adapters = new();
    long clock;

    internal sealed class ServedBase(LanguageModel model, ContinuousBatcher batcher, long bytes, DeviceWorker device)
    {
        public LanguageModel Model { get; } = model;
        public ContinuousBatcher Batcher { get; } = batcher;
        public DeviceWorker Device { get; } = device;
        public long Bytes { get; } = bytes;
        public long LastUsed { get; set; }
        public int InUse { get; set; }
        public IDisposable? BaseModelFiles { get; init; } // the base model's cache pin, released with the model
    }

    internal sealed class ServedAdapter(LoraWeights weights)
    {
        public LoraWeights Weights { get; } = weights;
        public long LastUsed { get; set; }
        public int InUse { get; set; }
    }

    /// <summary>A base (and adapter) held for one call: neither is evicted until it is disposed.</summary>
    public sealed class Lease : IDisposable
    {
        readonly ModelHost host;
        readonly ServedBase served;
        readonly ServedAdapter? adapter;
        int disposed;

        internal Lease(ModelHost host, ServedBase served, ServedAdapter? adapter) => (this.host, this.served, this.adapter) = (host, served, adapter);

        public LanguageModel Model => served.Model;
        public ContinuousBatcher Batcher => served.Batcher;
        public LoraWeights? Adapter => adapter?.Weights;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1) return;
            lock (host.gate)
            {
                served.InUse--;
                if (adapter is not null) adapter.InUse--;
            }
        }
    }

    /// <summary>Served base models and their parameter bytes (for tests and diagnostics).</summary>
    public IReadOnlyList<(string Device, string Model, long Bytes)> Loaded()
    {
        lock (gate) return bases.Select(s => (s.Key.Device, s.Key.Model, s.Value.Bytes)).ToList();
    }

    /// <summary>Loaded adapters: device, base, key and bytes (for tests and diagnostics).</summary>
    public IReadOnlyList<(string Device, string Model, string Key, long Bytes)> LoadedAdapters()
    {
        lock (gate) return adapters.Select(a => (a.Key.Device, a.Key.Model, a.Key.Key, a.Value.Weights.Bytes)).ToList();
    }

    /// <summary>The served base model (for rendering prompts with its tokenizer and template); on the device thread.</summary>
    public LanguageModel ForGeneration(DeviceWorker device, string baseModel) => Base(device, baseModel, null, hold: false).Model;

    /// <summary>As above, for a base model leased from the artifact store: the served model keeps the folder pinned until it is evicted.</summary>
    public LanguageModel ForGeneration(DeviceWorker device, ArtifactLease baseModel) => Base(device, baseModel.Path, baseModel, hold: false).Model;

    /// <summary>
    /// The base and the adapter of one call, held until the lease is disposed; on the device thread.
    /// <paramref name="adapterKey"/> names the adapter's weights (path and policy version; the folder
    /// when null): calls with one key share the loaded weights.
    /// </summary>
    public Lease Acquire(DeviceWorker device, ArtifactLease baseModel, string? adapterFolder, string? adapterKey) =>
        Acquire(device, baseModel.Path, baseModel, adapterFolder, adapterKey);

    public Lease Acquire(DeviceWorker device, string baseModel, string? adapterFolder, string? adapterKey) =>
        Acquire(device, baseModel, null, adapterFolder, adapterKey);

    Lease Acquire(DeviceWorker device, string baseModel, ArtifactLease? files, string? adapterFolder, string? adapterKey)
    {
        var served = Base(device, baseModel, files, hold: true);
        try
        {
            var adapter = adapterFolder is null ? null : Adapter(device, served, Path.GetFullPath(baseModel), adapterKey ?? Path.GetFullPath(adapterFolder), adapterFolder);
            return new Lease(this, served, adapter);
        }
        catch
        {
            lock (gate) served.InUse--;
            throw;
        }
    }

    ServedBase Base(DeviceWorker device, string baseModel, ArtifactLease? files, bool hold)
    {
        var key = (device.Name, Path.GetFullPath(baseModel));
        ServedBase? entry;
        lock (gate)
        {
            if (bases.TryGetValue(key, out entry))
            {
                entry.LastUsed = ++clock;
                if (hold) entry.InUse++;
            }
        }
        if (entry is not null)
        {
            EvictBases(device.Name, entry); // bases held past the budget go once they are idle
            return entry;
        }
        var model = LanguageModel.Load(baseModel, device.Device);
        entry = new ServedBase(model, new ContinuousBatcher(model, batching), ParameterBytes(model), device) { BaseModelFiles = files?.Share() };
        device.Attach(entry.Batcher);
        lock (gate)
        {
            entry.LastUsed = ++clock;
            if (hold) entry.InUse++;
            bases[key] = entry;
        }
        EvictBases(device.Name, entry);
        return entry;
    }

    ServedAdapter Adapter(DeviceWorker device, ServedBase served, string model, string key, string folder)
    {
        var id = (device.Name, model, key);
        ServedAdapter? entry;
        lock (gate)
        {
            if (adapters.TryGetValue(id, out entry))
            {
                entry.LastUsed = ++clock;
                entry.InUse++;
                return entry;
            }
        }
        entry = new ServedAdapter(LoraWeights.Load(folder, served.Model.Network));
        lock (gate)
        {
            entry.LastUsed = ++clock;
            entry.InUse++;
            adapters[id] = entry;
        }
        EvictAdapters(device.Name);
        return entry;
    }

    /// <summary>Disposes this device's least recently used idle bases (and their adapters) until its base bytes fit the budget; <paramref name="keep"/> stays.</summary>
    void EvictBases(string device, ServedBase keep)
    {
        var evicted = new List<ServedBase>();
        var orphans = new List<ServedAdapter>();
        lock (gate)
        {
            var mine = bases.Where(s => s.Key.Device == device).OrderBy(s => s.Value.LastUsed).ToList();
            long total = mine.Sum(s => s.Value.Bytes);
            foreach (var (key, value) in mine)
            {
                if (total <= budgetBytes) break;
                if (value == keep || value.InUse > 0 || value.Batcher.HasWork) continue;
                bases.Remove(key);
                evicted.Add(value);
                total -= value.Bytes;
                foreach (var a in adapters.Where(a => a.Key.Device == device && a.Key.Model == key.Model).ToList())
                {
                    adapters.Remove(a.Key);
                    orphans.Add(a.Value);
                }
            }
        }
        foreach (var a in orphans) a.Weights.Dispose();
        foreach (var e in evicted)
        {
            e.Device.Detach(e.Batcher); // on this device's thread: the only one that uses them
            e.Batcher.Dispose();
            e.Model.Dispose();
            e.BaseModelFiles?.Dispose();
        }
    }

    /// <summary>Disposes this device's least recently used adapters that no call holds until its adapter bytes fit the budget.</summary>
    void EvictAdapters(string device)
    {
        var evicted = new List<ServedAdapter>();
        lock (gate)
        {
            var mine = adapters.Where(a => a.Key.Device == device).OrderBy(a => a.Value.LastUsed).ToList();
            long total = mine.Sum(a => a.Value.Weights.Bytes);
            foreach (var (key, value) in mine)
            {
                if (total <= adapterBudgetBytes) break;
                if (value.InUse > 0) continue;
                adapters.Remove(key);
                evicted.Add(value);
                total -= value.Weights.Bytes;
            }
        }
        foreach (var e in evicted) e.Weights.Dispose();
    }

    /// <summary>Σ numel × element size over every parameter and buffer of the network.</summary>
    static long ParameterBytes(LanguageModel model) =>
        model.Network.parameters().Sum(p => p.numel() * p.ElementSize) + model.Network.buffers().Sum(b => b.numel() * b.ElementSize);

    public static LanguageModel LoadTrainable(DeviceWorker device, string baseModel, LoraConfig lora, long seed)
    {
        var model = LanguageModel.Load(baseModel, device.Device);
        model.AttachLora(lora, seed);
        return model;
    }

    /// <summary>
    /// Releases every model on its own device's thread: the silo shuts down from another thread while
    /// the device thread may be stepping these schedulers, and freeing their tensors under it would crash
    /// the process. Rows still running fail with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        List<ServedBase> servedBases;
        List<((string Device, string Model, string Key) Key, ServedAdapter Value)> servedAdapters;
        lock (gate)
        {
            servedBases = bases.Values.ToList();
            servedAdapters = adapters.Select(a => (a.Key, a.Value)).ToList();
            adapters.Clear();
            bases.Clear();
        }
        foreach (var onDevice in servedBases.GroupBy(b => b.Device))
        {
            var device = onDevice.Key;
            var itsAdapters = servedAdapters.Where(a => a.Key.Device == device.Name).Select(a => a.Value).ToList();
            device.Invoke(() =>
            {
                foreach (var b in onDevice)
                {
                    device.Detach(b.Batcher);
                    b.Batcher.Dispose();
                    b.Model.Dispose();
                }
                foreach (var a in itsAdapters) a.Weights.Dispose();
            });
            foreach (var b in onDevice) b.BaseModelFiles?.Dispose();
        }
        // An adapter is only ever stepped with its base; one whose base is already gone is idle.
        foreach (var (key, a) in servedAdapters.Where(a => servedBases.All(b => b.Device.Name != a.Key.Device))) a.Weights.Dispose();
    }
}
