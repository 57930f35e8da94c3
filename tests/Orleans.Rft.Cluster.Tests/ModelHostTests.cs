using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Grains.Services;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The served-model table: one base per (device, folder) whatever the adapters' shapes, adapters as
/// their own weights, each evicted least recently used under its budget — never while a call holds it.
/// </summary>
public sealed class ModelHostTests : IAsyncLifetime
{
    readonly ClusterFixture toy = new();
    readonly DeviceWorker device = new("cpu", ComputeDevice.Cpu);
    readonly Dictionary<string, string> adapters = new();
    string otherBase = "";

    public async Task InitializeAsync()
    {
        await toy.InitializeModelAndData();
        foreach (var (name, config) in new[] { ("r2", new LoraConfig(2, 4)), ("r4", new LoraConfig(4, 4)), ("r2a8", new LoraConfig(2, 8)) })
        {
            using var model = LanguageModel.Load(toy.ModelDir);
            model.AttachLora(config);
            PeftAdapter.Save(model, adapters[name] = Path.Combine(toy.Root, "adapters", name));
        }
        otherBase = Path.Combine(toy.Root, "other-base");
        Directory.CreateDirectory(otherBase);
        foreach (var file in Directory.GetFiles(toy.ModelDir)) File.Copy(file, Path.Combine(otherBase, Path.GetFileName(file)));
    }

    [Fact]
    public async Task Adapters_of_every_rank_and_alpha_share_one_base_and_the_least_recently_used_idle_adapter_is_evicted_past_the_budget()
    {
        long r2Bytes = 0, r4Bytes = 0;
        await device.RunAsync(() =>
        {
            using var probe = new ModelHost(long.MaxValue, long.MaxValue);
            using (var a = probe.Acquire(device, toy.ModelDir, adapters["r2"], "r2")) r2Bytes = a.Adapter!.Bytes;
            using (var a = probe.Acquire(device, toy.ModelDir, adapters["r4"], "r4")) r4Bytes = a.Adapter!.Bytes;
        });
        Assert.True(r4Bytes > r2Bytes);
        using var host = new ModelHost(long.MaxValue, r2Bytes + r4Bytes); // room for r2 and r4, not a third
        await device.RunAsync(() =>
        {
            using var r4 = host.Acquire(device, toy.ModelDir, adapters["r4"], "r4");      // held through the test
            using (var r2 = host.Acquire(device, toy.ModelDir, adapters["r2"], "r2"))
            {
                Assert.Same(r4.Model, r2.Model);                                            // one base for every shape
                Assert.Equal((2, 4.0), (r2.Adapter!.Config.Rank, r2.Adapter.Config.Alpha));
                Assert.Equal((4, 4.0), (r4.Adapter!.Config.Rank, r4.Adapter.Config.Alpha));
                Assert.Null(r2.Model.Lora);                                                 // the base itself carries no adapter
                using var again = host.Acquire(device, toy.ModelDir, adapters["r2"], "r2");
                Assert.Same(r2.Adapter, again.Adapter);                                     // one key: one loaded copy
            }
            using (var a8 = host.Acquire(device, toy.ModelDir, adapters["r2a8"], "r2a8"))  // past the budget: r2 (idle) goes, r4 (held, older) stays
            {
                Assert.Equal(8.0, a8.Adapter!.Config.Alpha);
                Assert.Equal(["r2a8", "r4"], host.LoadedAdapters().Select(a => a.Key).Order());
            }
            Assert.Single(host.Loaded());
        });
    }

    [Fact]
    public async Task Bases_are_evicted_least_recently_used_past_the_budget_but_never_while_a_call_holds_one()
    {
        long modelBytes = await device.RunAsync(() =>
        {
            using var probe = new ModelHost(long.MaxValue);
            probe.ForGeneration(device, toy.ModelDir);
            return probe.Loaded().Single().Bytes;
        });
        using var host = new ModelHost(modelBytes + modelBytes / 2); // room for one base
        await device.RunAsync(() =>
        {
            var first = host.Acquire(device, toy.ModelDir, adapters["r2"], "r2");
            using (var second = host.Acquire(device, otherBase, null, null))
                Assert.Equal(2, host.Loaded().Count);                // the first is held: it stays, over the budget
            first.Dispose();
            using (var again = host.Acquire(device, otherBase, null, null))
                Assert.Equal([Path.GetFullPath(otherBase)], host.Loaded().Select(l => l.Model)); // the first, idle now, goes
            host.ForGeneration(device, toy.ModelDir);                // reloads the first base: the idle other one goes
            Assert.Equal([Path.GetFullPath(toy.ModelDir)], host.Loaded().Select(l => l.Model));
            Assert.Empty(host.LoadedAdapters().Where(a => a.Model == Path.GetFullPath(otherBase)));
        });
        // A base larger than the budget is still served (alone).
        using var tiny = new ModelHost(1);
        await device.RunAsync(() =>
        {
            tiny.ForGeneration(device, toy.ModelDir);
            tiny.ForGeneration(device, otherBase);
            Assert.Single(tiny.Loaded());
        });
    }

    [Fact]
    public async Task Disposing_the_host_from_a_shutdown_thread_while_its_scheduler_decodes_fails_the_rows_and_never_frees_tensors_under_the_device_thread()
    {
        // The silo's container disposes the host on its own thread while the device thread may be
        // mid-step: freeing the model there would be a native crash of the whole process, not an exception.
        var host = new ModelHost(long.MaxValue);
        var firstTokens = new CountdownEvent(8);
        var rows = await device.RunAsync(() =>
        {
            var handles = new List<Engine.Sampling.SequenceHandle>();
            for (int i = 0; i < 8; i++)
            {
                var lease = host.Acquire(device, toy.ModelDir, adapters[i % 2 == 0 ? "r2" : "r4"], i % 2 == 0 ? "r2" : "r4");
                bool counted = false;
                handles.Add(lease.Batcher.Submit(new Engine.Sampling.SequenceSubmission([1, 2, 3], new Engine.Sampling.SamplingOptions(MaxTokens: 1000, IgnoreEos: true), i, lease.Adapter,
                    _ => { if (!counted) { counted = true; firstTokens.Signal(); } })));
                lease.Dispose(); // counted leases only: the rows keep running
            }
            return handles;
        });
        Assert.True(firstTokens.Wait(TimeSpan.FromSeconds(30)));           // every row is decoding now
        await Task.Run(host.Dispose);                                     // from a thread pool thread, as shutdown does
        foreach (var row in rows)
        {
            var finished = await Record.ExceptionAsync(() => row.Completion); // each row ends: failed (disposed) or done, never left hanging
            Assert.True(finished is null or ObjectDisposedException, $"{finished}");
        }
        Assert.Empty(host.Loaded());
        Assert.Equal(3, await device.RunAsync(() => 3));                  // the device thread is alive and serves work after the step it was in
    }

    public async Task DisposeAsync()
    {
        device.Dispose();
        await toy.DisposeAsync();
    }
}
