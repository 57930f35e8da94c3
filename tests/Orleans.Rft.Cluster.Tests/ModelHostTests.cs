using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Grains.Services;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The served-model table: one model per LoRA shape, evicted least recently used under a parameter budget.</summary>
public sealed class ModelHostTests : IAsyncLifetime
{
    readonly ClusterFixture toy = new();
    readonly DeviceWorker device = new("cpu", ComputeDevice.Cpu);
    readonly Dictionary<string, string> adapters = new();

    public async Task InitializeAsync()
    {
        await toy.InitializeModelAndData();
        foreach (var (name, config) in new[] { ("r2", new LoraConfig(2, 4)), ("r4", new LoraConfig(4, 4)), ("r2a8", new LoraConfig(2, 8)) })
        {
            using var model = LanguageModel.Load(toy.ModelDir);
            model.AttachLora(config);
            PeftAdapter.Save(model, adapters[name] = Path.Combine(toy.Root, "adapters", name));
        }
    }

    [Fact]
    public async Task Models_are_kept_per_lora_shape_and_the_least_recently_used_is_evicted_past_the_budget()
    {
        long modelBytes = await device.RunAsync(() =>
        {
            using var probe = new ModelHost(long.MaxValue);
            probe.ForGeneration(device, toy.ModelDir, adapters["r2"], 1);
            return probe.Loaded().Single().Bytes;
        });
        using var host = new ModelHost(2 * modelBytes + modelBytes / 2); // room for two models
        await device.RunAsync(() =>
        {
            // Base only first (no model served yet), then an adapter: the base copy is not reused for it.
            Assert.Null(host.ForGeneration(device, toy.ModelDir, null, -1).Lora);
            var r2 = host.ForGeneration(device, toy.ModelDir, adapters["r2"], 1);
            Assert.Equal(2, host.Loaded().Count);
            var r4 = host.ForGeneration(device, toy.ModelDir, adapters["r4"], 1);  // evicts the base copy (least recently used)
            Assert.Equal(["r=2 alpha=4", "r=4 alpha=4"], host.Loaded().Select(l => l.Shape[..l.Shape.IndexOf(" targets")]).Order());
            Assert.NotSame(r2, r4);
            Assert.Same(r2, host.ForGeneration(device, toy.ModelDir, adapters["r2"], 2)); // same shape: same model, new weights
            var a8 = host.ForGeneration(device, toy.ModelDir, adapters["r2a8"], 1); // another alpha is another model; evicts r4
            Assert.NotSame(r2, a8);
            Assert.Equal(8, a8.Lora!.Alpha);
            Assert.Equal(["r=2 alpha=4", "r=2 alpha=8"], host.Loaded().Select(l => l.Shape[..l.Shape.IndexOf(" targets")]).Order());
            Assert.True(host.Loaded().Sum(l => l.Bytes) <= 2 * modelBytes + modelBytes / 2);
            // Without an adapter the most recently used copy serves, with its adapter switched off.
            Assert.Same(a8, host.ForGeneration(device, toy.ModelDir, null, -1));
        });
        // A model larger than the budget is still served (alone).
        using var tiny = new ModelHost(1);
        await device.RunAsync(() =>
        {
            tiny.ForGeneration(device, toy.ModelDir, adapters["r2"], 1);
            tiny.ForGeneration(device, toy.ModelDir, adapters["r4"], 1);
            Assert.Single(tiny.Loaded());
        });
    }

    public async Task DisposeAsync()
    {
        device.Dispose();
        await toy.DisposeAsync();
    }
}
