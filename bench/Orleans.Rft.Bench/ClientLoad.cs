using System.Diagnostics;

namespace Orleans.Rft.Bench;

/// <summary>Concurrent clients for the HTTP benchmarks (serving, remote agents), and the percentile they report.</summary>
static class ClientLoad
{
    /// <summary>
    /// <paramref name="clients"/> concurrent clients, each making <paramref name="rounds"/> calls one after another;
    /// call i (= round × clients + client) gets its own index. Returns the wall time and every call's result.
    /// </summary>
    public static async Task<(double Seconds, List<T> Results)> Run<T>(int clients, int rounds, Func<int, Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        var all = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = new List<T>();
            for (int r = 0; r < rounds; r++) mine.Add(await call(r * clients + c));
            return mine;
        })));
        return (clock.Elapsed.TotalSeconds, all.SelectMany(a => a).ToList());
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0–100); NaN with no values.</summary>
    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
