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
        foreach (var (name, device) in Resolve(options.Value.Devices)) workers[name] = new DeviceWorker(name, device);
    }

    /// <summary>
    /// The devices a <c>Rft:Devices</c> value names, by their cluster-wide names (<c>cpu</c>,
    /// <c>cuda:0</c>); <c>auto</c> resolves here, so silo metadata advertises what really runs.
    /// </summary>
    public static IReadOnlyList<(string Name, ComputeDevice Device)> Resolve(string spec)
    {
        var devices = new List<(string, ComputeDevice)>();
        foreach (var part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var device = ComputeDevice.Parse(part);
            var name = device.Device.type == TorchSharp.DeviceType.CUDA ? $"cuda:{device.Device.index}" : "cpu";
            if (devices.All(d => d.Item1 != name)) devices.Add((name, device));
        }
        if (devices.Count == 0) throw new InvalidOperationException("Rft:Devices names no device; use auto, cpu or cuda:N.");
        return devices;
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
