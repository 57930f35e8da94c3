using Microsoft.Extensions.Options;
using Orleans.Rft.Engine.Devices;

namespace Orleans.Rft.Grains.Services;

/// <summary>Silo options for devices: which ones this silo serves (<c>Rft:Devices</c>, default <c>auto</c>).</summary>
public sealed class DeviceOptions
{
    /// <summary>Comma-separated: <c>auto</c>, <c>cpu</c>, <c>cuda:0,cuda:1</c>.</summary>
    public string Devices { get; set; } = "auto";
}

/// <summary>The silo's device workers by name (<c>cpu</c>, <c>cuda:0</c>).</summary>
public sealed class DeviceRegistry : IDisposable
{
    readonly Dictionary<string, DeviceWorker> workers = new();

    public DeviceRegistry(IOptions<DeviceOptions> options)
    {
        foreach (var spec in options.Value.Devices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var device = ComputeDevice.Parse(spec);
            var name = device.Device.type == TorchSharp.DeviceType.CUDA ? $"cuda:{device.Device.index}" : "cpu";
            if (!workers.ContainsKey(name)) workers[name] = new DeviceWorker(name, device);
        }
        if (workers.Count == 0) throw new InvalidOperationException("Rft:Devices names no device; use auto, cpu or cuda:N.");
    }

    public IReadOnlyCollection<string> Names => workers.Keys;

    public DeviceWorker Get(string name) =>
        workers.TryGetValue(name, out var w) ? w : throw new InvalidOperationException($"this silo has no device '{name}' (it has {string.Join(", ", workers.Keys)}).");

    public double BusySeconds => workers.Values.Sum(w => w.BusySeconds);

    public void Dispose()
    {
        foreach (var w in workers.Values) w.Dispose();
    }
}
