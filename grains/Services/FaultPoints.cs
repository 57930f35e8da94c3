namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Named places in the job's life where a fault-injection test needs the process to die at an exact
/// moment (for instance between a checkpoint's data and the state that points at it). Off unless the
/// process was started with <c>RFT_FAULT_POINT=&lt;name&gt;</c>: then, the first time that point is
/// reached, it writes <c>RFT_FAULT_MARKER</c> (a file path) and never returns, so the test can
/// <c>kill -9</c> the process while it is exactly there. Costs one string compare when off.
/// </summary>
public static class FaultPoints
{
    public const string CheckpointDataWritten = "checkpoint-data-written";

    static readonly string? Armed = Environment.GetEnvironmentVariable("RFT_FAULT_POINT");
    static int fired;

    public static async Task ReachedAsync(string point)
    {
        if (Armed is null || Armed != point || Interlocked.Exchange(ref fired, 1) == 1) return;
        if (Environment.GetEnvironmentVariable("RFT_FAULT_MARKER") is { Length: > 0 } marker)
            await File.WriteAllTextAsync(marker, $"{point} {Environment.ProcessId}\n");
        await Task.Delay(Timeout.Infinite);
    }
}
