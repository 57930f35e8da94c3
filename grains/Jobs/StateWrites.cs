using Orleans.Storage;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>Grain state writes that survive a stale ETag.</summary>
public static class StateWrites
{
    const int MaxAttempts = 3;

    /// <summary>
    /// Writes <paramref name="store"/>'s state; on an ETag conflict re-reads the stored copy (which
    /// refreshes the ETag) and writes again with <paramref name="reapply"/> applied to what was read.
    /// A conflict means a previous write landed though its reply was lost, or a duplicate activation
    /// wrote; either way this activation's intent is re-applied, never dropped and never a failed job.
    /// </summary>
    public static async Task WriteAsync<T>(IPersistentState<T> store, Func<T, T> reapply)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { await store.WriteStateAsync(); return; }
            catch (InconsistentStateException) when (attempt < MaxAttempts)
            {
                await store.ReadStateAsync();
                store.State = reapply(store.State);
            }
        }
    }

    /// <summary>For a state that has a single writer: what this activation holds is the truth; only the ETag is refreshed.</summary>
    public static Task WriteOwnedAsync<T>(IPersistentState<T> store)
    {
        var mine = store.State;
        return WriteAsync(store, _ => mine);
    }
}
