namespace Orleans.Rft.Evaluators;

/// <summary>
/// Built evaluators by key, at most <c>capacity</c> of them, the least recently used dropped first:
/// regexes and schemas are built once per spec, and a silo that sees many specs over its life keeps
/// a bounded number. Thread-safe (one lock; a build happens outside it).
/// </summary>
public sealed class EvaluatorCache<TKey>(int capacity) where TKey : notnull
{
    readonly object gate = new();
    readonly Dictionary<TKey, LinkedListNode<(TKey Key, IEvaluator Value)>> index = new();
    readonly LinkedList<(TKey Key, IEvaluator Value)> recency = new(); // most recent first

    public int Count { get { lock (gate) return index.Count; } }

    public IEvaluator GetOrAdd(TKey key, Func<TKey, IEvaluator> build)
    {
        lock (gate)
            if (index.TryGetValue(key, out var node))
            {
                recency.Remove(node);
                recency.AddFirst(node);
                return node.Value.Value;
            }
        var built = build(key); // may throw (a bad spec): nothing is cached then
        lock (gate)
        {
            if (index.TryGetValue(key, out var raced))
            {
                (built as IDisposable)?.Dispose(); // built twice in a race: keep one owner of the workers
                return raced.Value.Value;
            }
            index[key] = recency.AddFirst((key, built));
            while (index.Count > capacity)
            {
                var evicted = recency.Last!.Value;
                index.Remove(evicted.Key);
                recency.RemoveLast();
                // An evicted python evaluator stops its idle workers; a call still running finishes on its own worker.
                (evicted.Value as IDisposable)?.Dispose();
            }
            return built;
        }
    }
}
