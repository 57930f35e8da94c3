namespace Orleans.Rft.Grains.Jobs;

/// <summary>Rollouts sampled ahead of their step (<c>max_staleness</c> &gt; 0): the task, the cursor after its rows, the adapter it samples with.</summary>
public sealed record PrefetchedBatch(Task<List<PendingRollout>> Rollouts, (int Epoch, int Cursor, int[] Rows) Cursor, string? AdapterPath);
