using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// What attention needs of a key/value cache: each layer writes the new keys and values of its
/// forward and reads back every key and value the rows may attend to. <see cref="KvCache"/> keeps
/// rows aligned (left padding, one shared length); a slot cache for continuous batching keeps a
/// length per row.
/// </summary>
public interface IKvCache
{
    /// <summary>Writes k, v (B, kvHeads, T, hd) of <paramref name="layer"/> and returns the keys and values to attend over (B, kvHeads, Tk, hd).</summary>
    (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v);

    /// <summary>Called once per forward, after every layer appended <paramref name="tokens"/> positions.</summary>
    void Advance(long tokens);
}

/// <summary>
/// Pre-allocated key/value cache for batched decoding: per layer (B, kvHeads, capacity, headDim).
/// Rows are left-padded, so every row writes its next token at the same slot <see cref="Length"/>;
/// decoding reads the weights once per step and never re-concatenates the cache.
/// </summary>
public sealed class KvCache : IKvCache, IDisposable
{
    readonly Tensor[] keys, values;

    public KvCache(int layers, long batch, int kvHeads, long capacity, int headDim, ScalarType dtype, Device device)
    {
        keys = new Tensor[layers];
        values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            // the cache outlives the caller's per-step dispose scopes; Dispose() frees it
            keys[i] = zeros(new[] { batch, kvHeads, capacity, headDim }, dtype, device).DetachFromDisposeScope();
            values[i] = zeros(new[] { batch, kvHeads, capacity, headDim }, dtype, device).DetachFromDisposeScope();
        }
        Capacity = capacity;
    }

    public long Capacity { get; }
    /// <summary>Slots filled so far (the same for every row).</summary>
    public long Length { get; private set; }
    public long Batch => keys[0].shape[0];

    /// <summary>Writes k, v (B, kvHeads, T, hd) at [Length, Length+T) and returns views of the filled prefix.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[2];
        if (Length + t > Capacity) throw new InvalidOperationException($"KV cache full: {Length} + {t} > {Capacity}.");
        keys[layer].narrow(2, Length, t).copy_(k);
        values[layer].narrow(2, Length, t).copy_(v);
        return (keys[layer].narrow(2, 0, Length + t), values[layer].narrow(2, 0, Length + t));
    }

    /// <summary>Called once per forward, after every layer appended.</summary>
    public void Advance(long tokens) => Length += tokens;

    /// <summary>Keeps only the given rows (finished sequences leave the batch).</summary>
    public void SelectRows(Tensor rowIndex)
    {
        for (int i = 0; i < keys.Length; i++)
        {
            var k = keys[i].index_select(0, rowIndex).DetachFromDisposeScope();
            var v = values[i].index_select(0, rowIndex).DetachFromDisposeScope();
            keys[i].Dispose(); values[i].Dispose();
            keys[i] = k; values[i] = v;
        }
    }

    public void Dispose()
    {
        foreach (var t in keys) t.Dispose();
        foreach (var t in values) t.Dispose();
    }
}
