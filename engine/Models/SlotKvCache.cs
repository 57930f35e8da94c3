using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// The key/value cache of continuous batching: per layer (slots, kvHeads, capacity, headDim), one slot
/// per sequence, each with its own filled range [Start, End) — Start > 0 when the row was left-padded
/// in a prefill with longer prompts. Active rows stay compact in slots 0..Rows−1: when rows leave,
/// the last rows move into the holes (<see cref="Compact"/>), so a decode step reads one contiguous
/// block. A decode forward writes each row's new key/value at its own End with a scatter, and attends
/// over [0, max End + 1) with a mask (B, 1, 1, Tk) built on the device from the per-row ranges; a
/// prefill forward writes its new rows' slots from position 0. The scheduler tells the cache which
/// kind of forward comes next (<see cref="BeginDecode"/>, <see cref="BeginPrefill"/>).
/// </summary>
public sealed class SlotKvCache : IKvCache, IDisposable
{
    readonly int layers, kvHeads, headDim;
    readonly ScalarType dtype;
    readonly Device device;
    Tensor[]? keys, values;
    long[] start = [], end = [];
    // the forward in progress
    bool decoding;
    int prefillFirst, prefillRows, decodeRows;
    long prefillTokens, readLength;
    Tensor? writeIndex;                                    // decode: (B, kvh, 1, hd) int64, each row's End

    public SlotKvCache(int layers, int kvHeads, int headDim, ScalarType dtype, Device device)
    {
        (this.layers, this.kvHeads, this.headDim, this.dtype, this.device) = (layers, kvHeads, headDim, dtype, device);
    }

    /// <summary>Allocated slots and positions per slot.</summary>
    public int Slots => keys is null ? 0 : (int)keys[0].shape[0];
    public long Capacity => keys is null ? 0 : keys[0].shape[2];
    /// <summary>Active rows, in slots 0..Rows−1.</summary>
    public int Rows { get; private set; }
    public long StartOf(int slot) => start[slot];
    public long EndOf(int slot) => end[slot];

    /// <summary>Grows the allocation (copying what is there) to at least <paramref name="slots"/> × <paramref name="capacity"/>.</summary>
    public void Reserve(int slots, long capacity)
    {
        if (slots <= Slots && capacity <= Capacity) return;
        Reallocate(Math.Max(slots, Slots), Math.Max(capacity, Capacity));
    }

    /// <summary>
    /// Shrinks the allocation to <paramref name="slots"/> × <paramref name="capacity"/> (copying the active
    /// rows), so that a cache grown for a long request does not outlive it. Both must hold the active rows.
    /// </summary>
    public void Shrink(int slots, long capacity)
    {
        if (keys is null || (slots >= Slots && capacity >= Capacity)) return;
        for (int r = 0; r < Rows; r++)
            if (end[r] > capacity) throw new InvalidOperationException($"KV cache: row {r} fills {end[r]} positions, more than {capacity}.");
        Reallocate(Math.Max(slots, Rows), capacity);
    }

    void Reallocate(int s, long c)
    {
        using var scope = NewDisposeScope();
        var newKeys = new Tensor[layers];
        var newValues = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            // zeros, not empty: masked positions get weight 0 in attention, and 0 · NaN would still be NaN
            newKeys[i] = zeros(new long[] { s, kvHeads, c, headDim }, dtype, device).DetachFromDisposeScope();
            newValues[i] = zeros(new long[] { s, kvHeads, c, headDim }, dtype, device).DetachFromDisposeScope();
            if (keys is not null && Rows > 0)
            {
                long kept = Math.Min(c, Capacity);
                newKeys[i].narrow(0, 0, Rows).narrow(2, 0, kept).copy_(keys[i].narrow(0, 0, Rows).narrow(2, 0, kept));
                newValues[i].narrow(0, 0, Rows).narrow(2, 0, kept).copy_(values![i].narrow(0, 0, Rows).narrow(2, 0, kept));
            }
        }
        FreeTensors();
        keys = newKeys;
        values = newValues;
        Array.Resize(ref start, s);
        Array.Resize(ref end, s);
    }

    /// <summary>
    /// The next forward prefills rows <c>Rows..Rows+rows−1</c> with (rows, tokens) ids, left-padded:
    /// row j's real tokens start at <paramref name="pads"/>[j]. They become active rows.
    /// </summary>
    public void BeginPrefill(IReadOnlyList<long> pads, long tokens)
    {
        if (Rows + pads.Count > Slots || tokens > Capacity) throw new InvalidOperationException($"KV cache: prefill of {pads.Count} × {tokens} does not fit {Slots - Rows} free slots × {Capacity}; Reserve first.");
        decoding = false;
        prefillFirst = Rows;
        prefillRows = pads.Count;
        prefillTokens = tokens;
        for (int j = 0; j < pads.Count; j++) { start[Rows + j] = pads[j]; end[Rows + j] = tokens; }
        Rows += pads.Count;
    }

    /// <summary>
    /// The next forward decodes one token for each of the first <paramref name="rows"/> active rows
    /// (all of them by default; rows just prefilled, which follow, already have their first token's
    /// logits). Returns its RoPE positions (B, 1) (End − Start: the row's own token count) and
    /// attention mask (B, 1, 1, Tk), true where the row may attend (Start ≤ key ≤ End), Tk = the
    /// longest row + 1. Built on the device, once per step.
    /// </summary>
    public (Tensor Positions, Tensor Mask) BeginDecode(int? rows = null)
    {
        int b = rows ?? Rows;
        if (b < 1 || b > Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"KV cache: cannot decode {b} of {Rows} rows.");
        long longest = 0;
        for (int r = 0; r < b; r++) longest = Math.Max(longest, end[r]);
        if (longest + 1 > Capacity) throw new InvalidOperationException($"KV cache full: a row needs position {longest} of {Capacity}; Reserve first.");
        decoding = true;
        decodeRows = b;
        readLength = longest + 1;
        var ranges = tensor(start.Take(b).Concat(end.Take(b)).ToArray(), new long[] { 2, b, 1 }, device: device); // one host→device copy
        var starts = ranges[0];
        var ends = ranges[1];                                                                              // (B, 1)
        writeIndex?.Dispose();
        writeIndex = ends.view(b, 1, 1, 1).expand(b, kvHeads, 1, headDim).contiguous().DetachFromDisposeScope();
        var keysAt = arange(readLength, device: device).unsqueeze(0);                                     // (1, Tk)
        var mask = keysAt.ge(starts).logical_and(keysAt.le(ends)).view(b, 1, 1, readLength);
        return (ends - starts, mask);
    }

    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        if (keys is null) throw new InvalidOperationException("KV cache: nothing reserved.");
        if (decoding)
        {
            var kb = keys[layer].narrow(0, 0, decodeRows);
            var vb = values![layer].narrow(0, 0, decodeRows);
            kb.scatter_(2, writeIndex!, k);
            vb.scatter_(2, writeIndex!, v);
            return (kb.narrow(2, 0, readLength), vb.narrow(2, 0, readLength));
        }
        var kp = keys[layer].narrow(0, prefillFirst, prefillRows).narrow(2, 0, prefillTokens);
        var vp = values![layer].narrow(0, prefillFirst, prefillRows).narrow(2, 0, prefillTokens);
        kp.copy_(k);
        vp.copy_(v);
        return (kp, vp);
    }

    /// <summary>After a decode forward every decoded row has one more position filled; a prefill set its rows' ends already.</summary>
    public void Advance(long tokens)
    {
        if (!decoding) return;
        for (int r = 0; r < decodeRows; r++) end[r] += tokens;
    }

    /// <summary>Copies slot <paramref name="from"/>'s keys, values and range into <paramref name="count"/> new active rows (n samples of one prompt).</summary>
    public void Duplicate(int from, int count)
    {
        if (count == 0) return;
        if (Rows + count > Slots) throw new InvalidOperationException($"KV cache: {count} copies do not fit {Slots - Rows} free slots.");
        for (int i = 0; i < layers; i++)
        {
            keys![i].narrow(0, Rows, count).copy_(keys[i].narrow(0, from, 1).expand(count, -1, -1, -1));
            values![i].narrow(0, Rows, count).copy_(values[i].narrow(0, from, 1).expand(count, -1, -1, -1));
        }
        for (int j = 0; j < count; j++) { start[Rows + j] = start[from]; end[Rows + j] = end[from]; }
        Rows += count;
    }

    /// <summary>
    /// Drops the rows in <paramref name="leaving"/> and moves the last remaining rows into their slots.
    /// Returns, for each new slot 0..Rows−1, the slot it came from.
    /// </summary>
    public int[] Compact(IReadOnlyCollection<int> leaving)
    {
        int remaining = Rows - leaving.Count;
        var holes = leaving.Where(s => s < remaining).Order().ToArray();
        var movers = Enumerable.Range(remaining, Rows - remaining).Where(s => !leaving.Contains(s)).ToArray();
        var from = Enumerable.Range(0, remaining).ToArray();
        for (int i = 0; i < holes.Length; i++) from[holes[i]] = movers[i];
        if (holes.Length > 0)
        {
            using var scope = NewDisposeScope();
            var src = tensor(movers.Select(m => (long)m).ToArray(), device: device);
            var dst = tensor(holes.Select(h => (long)h).ToArray(), device: device);
            for (int i = 0; i < layers; i++)
            {
                keys![i].index_copy_(0, dst, keys[i].index_select(0, src));
                values![i].index_copy_(0, dst, values[i].index_select(0, src));
            }
            for (int i = 0; i < holes.Length; i++) { start[holes[i]] = start[movers[i]]; end[holes[i]] = end[movers[i]]; }
        }
        Rows = remaining;
        if (Rows == 0) FreeTensors(); // an idle device holds no cache
        return from;
    }

    void FreeTensors()
    {
        foreach (var t in keys ?? []) t.Dispose();
        foreach (var t in values ?? []) t.Dispose();
        keys = values = null;
        writeIndex?.Dispose();
        writeIndex = null;
        if (Rows == 0) { start = []; end = []; }
    }

    public void Dispose()
    {
        Rows = 0;
        FreeTensors();
    }
}
