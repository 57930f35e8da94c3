using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Loads each base model once per device for generation and swaps in adapters by version (only
/// forward: a newer version replaces the LoRA values in place). Trainer ranks get their own
/// trainable copy from <see cref="LoadTrainable"/>, so sampling with version t can overlap training
/// towards t+1. Every method must run on the device's <see cref="DeviceWorker"/> thread.
/// </summary>
public sealed class ModelHost : IDisposable
{
    readonly Dictionary<(string Device, string Model), Served> served = new();

    sealed record Served(LanguageModel Model)
    {
        public string? AdapterPath { get; set; }
        public int Version { get; set; } = -1;
    }

    /// <summary>The policy for generation: the base model with adapter <paramref name="version"/> (no adapter when the path is null).</summary>
    public LanguageModel ForGeneration(DeviceWorker device, string baseModel, string? adapterPath, int version)
    {
        var key = (device.Name, Path.GetFullPath(baseModel));
        if (!served.TryGetValue(key, out var entry))
        {
            entry = new Served(LanguageModel.Load(baseModel, device.Device));
            served[key] = entry;
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

    public static LanguageModel LoadTrainable(DeviceWorker device, string baseModel, LoraConfig lora, long seed)
    {
        var model = LanguageModel.Load(baseModel, device.Device);
        model.AttachLora(lora, seed);
        return model;
    }

    public void Dispose()
    {
        foreach (var s in served.Values) s.Model.Dispose();
    }
}
