namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Where one generate request of a step goes when its worker fails (its silo left mid-step): to the next
/// worker of the step's plan, in plan order, that has not failed it, at most <see cref="MaxAttempts"/>
/// attempts in all. Each attempt is a whole request (seeds follow the rows, not the worker), so a retry
/// neither drops nor repeats a prompt; when every worker tried fails, the last error is the step's.
/// Plain logic over a delegate, unit-tested apart from the grains.
/// </summary>
public static class RolloutFailover
{
    public const int MaxAttempts = 3;

    /// <summary>
    /// Runs <paramref name="attempt"/> on <paramref name="planned"/>, then on later slots (wrapping) after each
    /// failure; an <see cref="ArgumentException"/> is the request's own fault and fails at once on any worker.
    /// </summary>
    public static async Task<(T Result, int Slot, DateTime Started)> Run<T>(int workers, int planned, Func<int, Task<T>> attempt)
    {
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "no rollout worker to send the request to.");
        if (planned < 0 || planned >= workers) throw new ArgumentOutOfRangeException(nameof(planned), planned, $"the planned worker is not one of the {workers}.");
        var failed = new List<int>();
        for (int slot = planned; ; )
        {
            var started = DateTime.UtcNow;
            try { return (await attempt(slot), slot, started); }
            catch (Exception e) when (e is not ArgumentException)
            {
                failed.Add(slot);
                var next = Enumerable.Range(1, workers - 1).Select(d => (slot + d) % workers).FirstOrDefault(s => !failed.Contains(s), -1);
                if (failed.Count >= MaxAttempts || next < 0) throw;
                slot = next;
            }
        }
    }
}
