namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Named places in the job's life where a fault-injection test needs the process to die at an exact
/// moment (for instance between a checkpoint's data and the state that points at it). Off unless the
/// process was started with <c>RFT_FAULT_POINT=&lt;name&gt;</c>: then, the n-th time that point is
/// reached (<c>RFT_FAULT_HIT=n</c>, default 1; 2 stops in a job's second checkpoint, the first one
/// with an older checkpoint to fall back to), it writes <c>RFT_FAULT_MARKER</c> (a file path) and
/// never returns, so the test can <c>kill -9</c> the process while it is exactly there. Costs one string compare when off.
/// </summary>
public static class FaultPoints
{
    public const string CheckpointDataWritten = "checkpoint-data-written";

    static readonly string? Armed = Environment.GetEnvironmentVariable("RFT_FAULT_POINT");
    static readonly int StopAt = int.TryParse(Environment.GetEnvironmentVariable("RFT_FAULT_HIT"), out var n) && n > 0 ? n : 1;
    static int hits;

    public static async Task ReachedAsync(string point)
    {
        if (Armed is null || Armed != point || Interlocked.Increment(ref hits) != StopAt) return;
        if (Environment.GetEnvironmentVariable("RFT_FAULT_MARKER") is { Length: > 0 } marker)
            await File.WriteAllTextAsync(marker, $"{point} {Environment.ProcessId}\n");
        await Task.Delay(Timeout.Infinite);
    }
}
