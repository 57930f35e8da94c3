using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Spreads served sequences over this silo's devices: each goes to the device with the fewest served
/// sequences in flight (ties to the first listed), so concurrent requests fill every device while the
/// scheduler on each batches what it is given.
/// </summary>
public sealed class DeviceBalancer(DeviceRegistry devices)
{
    readonly object gate = new();
    readonly Dictionary<string, int> inFlight = devices.Names.ToDictionary(n => n, _ => 0);

    public IReadOnlyCollection<string> Devices => devices.Names;

    /// <summary>The least busy device, counted until the returned handle is disposed.</summary>
    public Assignment Assign()
    {
        lock (gate)
        {
            var device = inFlight.OrderBy(d => d.Value).First().Key;
            inFlight[device]++;
            return new Assignment(this, device);
        }
    }

    void Release(string device)
    {
        lock (gate) inFlight[device]--;
    }

    public sealed class Assignment(DeviceBalancer owner, string device) : IDisposable
    {
        int released;
        public string Device { get; } = device;
        public void Dispose() { if (Interlocked.Exchange(ref released, 1) == 0) owner.Release(Device); }
    }
}
