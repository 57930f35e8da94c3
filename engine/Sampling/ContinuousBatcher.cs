using System.Collections.Concurrent;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// Limits of a <see cref="ContinuousBatcher"/>: the KV cache in tokens (slots × positions per slot;
/// a joiner that does not fit waits until rows leave — one alone over the budget still runs, alone)
/// and the most rows decoded together.
/// </summary>
public sealed record BatcherOptions(long KvBudgetTokens = long.MaxValue, int MaxRows = 256)
{
    public void Validate()
    {
        if (KvBudgetTokens < 1) throw new ArgumentException($"KvBudgetTokens must be ≥ 1 (got {KvBudgetTokens}).");
        if (MaxRows < 1) throw new ArgumentException($"MaxRows must be ≥ 1 (got {MaxRows}).");
    }
}

/// <summary>
/// Continuous batching (Orca, Yu et al. 2022) over one model: sequences join the running batch between
/// decode steps and leave when they end, so none waits for another's batch. Each <see cref="Step"/>
/// (on the caller's thread — the device's) first prefills the sequences that joined (identical
/// prompts with the same adapter once, the KV copied to each row) and reports their first tokens,
/// then decodes one token for every row that was already running; each forward's rows are sampled
/// with their own settings and seeds (<see cref="TokenSampler"/>), their ids and log-probs copied to
/// the host once, and finished rows leave at the end of the step (the slot cache compacts). Rows may
/// use different adapters over the frozen base (<see cref="LoraRouting"/>).
/// <see cref="Submit"/> is thread-safe; everything else runs on the device thread.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    readonly LanguageModel model;
    readonly BatcherOptions options;
    readonly ConcurrentQueue<SequenceHandle> submitted = new();
    readonly List<RowState> waiting = new();   // submitted, not yet admitted (FIFO)
    readonly List<RowState> active = new();    // active[slot]
    readonly SlotKvCache cache;
    Tensor? lastTokens;                        // (B) int64 on the device: each active row's newest token, the next input
    long maxReserved;                          // longest slot any active row needs (padding + prompt + max_tokens)

    public ContinuousBatcher(LanguageModel model, BatcherOptions? options = null)
    {
        this.model = model;
        this.options = options ?? new BatcherOptions();
        this.options.Validate();
        var c = model.Config;
        cache = new SlotKvCache(c.NumHiddenLayers, c.NumKeyValueHeads, c.HeadDim, model.Network.DType, model.Network.Device);
    }

    public LanguageModel Model => model;
    /// <summary>Rows decoding now.</summary>
    public int ActiveRows => active.Count;
    /// <summary>Sequences submitted and not yet admitted.</summary>
    public int WaitingRows => waiting.Count + submitted.Count;
    public bool HasWork => active.Count > 0 || waiting.Count > 0 || !submitted.IsEmpty;
    /// <summary>KV positions allocated now (slots × positions per slot), what <see cref="BatcherOptions.KvBudgetTokens"/> bounds.</summary>
    public long CachePositions => cache.Slots * cache.Capacity;
    /// <summary>Steps run so far (each decodes every active row once).</summary>
    public long Steps { get; private set; }

    /// <summary>Queues a sequence; it joins at the next step that has room. Thread-safe.</summary>
    public SequenceHandle Submit(SequenceSubmission s)
    {
        s.Options.Validate();
        if (s.PromptIds.Length == 0) throw new ArgumentException("the prompt needs at least one token.");
        var handle = new SequenceHandle(s, s.Seed ?? CounterUniform.RandomSeed());
        submitted.Enqueue(handle);
        return handle;
    }

    /// <summary>One decode step for every active row, after admitting the sequences that fit. Failures end the rows involved, never the scheduler.</summary>
    public void Step()
    {
        while (submitted.TryDequeue(out var h))
        {
            try { waiting.Add(new RowState(h, model)); }
            catch (Exception e) { h.Fail(e); } // a submission this model cannot take ends alone
        }
        DropCancelled();
        if (active.Count == 0 && waiting.Count == 0) return;
        var net = model.Network;
        bool wasTraining = net.training;
        net.eval();
        var joiners = new List<RowState>();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            joiners = Admit();
            int decoding = active.Count - joiners.Count;                              // rows 0..decoding−1 decode, the joiners follow
            Steps++;
            var leaving = new List<int>();
            // The joiners first: their first tokens go out after their prefill alone, not after the running
            // rows' decode as well, so an arrival waits for at most the step in progress plus its own
            // prefill (the running rows' tokens of this step come a prefill later instead, once).
            Tensor? joined = joiners.Count > 0 ? SampleAndReport(decoding, Prefill(joiners), leaving) : null;
            Tensor? decoded = decoding > 0 ? SampleAndReport(0, Decode(decoding), leaving) : null;
            Leave(leaving, decoded is null ? joined! : joined is null ? decoded : cat([decoded, joined], 0));
        }
        catch (Exception e)
        {
            // A failed forward (out of memory, a bad adapter) ends every row it touched; the scheduler starts afresh.
            foreach (var row in active.Concat(joiners).Distinct()) row.Handle.Fail(e);
            active.Clear();
            cache.Dispose();
            lastTokens?.Dispose();
            lastTokens = null;
            maxReserved = 0;
        }
        finally
        {
            LoraRouting.Install(net, null);
            if (wasTraining) net.train();
        }
    }

    /// <summary>
    /// Samples the rows in slots <paramref name="first"/>.. from their logits (R, V), copies the draws to the
    /// host in one transfer, hands each row its token and adds the slots of rows that ended to
    /// <paramref name="leaving"/>. Returns the tokens (R) on the device, those rows' next inputs.
    /// </summary>
    Tensor SampleAndReport(int first, Tensor logits, List<int> leaving)
    {
        int count = (int)logits.shape[0];
        var draws = active.GetRange(first, count).Select(r => r.Draw).ToList();
        var (tokens, packed) = TokenSampler.Next(logits, draws);
        var host = TokenSampler.Read(packed, draws);                                  // one device→host copy per forward
        for (int i = 0; i < count; i++)
        {
            var row = active[first + i];
            if (row.Handle.FirstTokenStep < 0) row.Handle.FirstTokenStep = Steps;
            try
            {
                var token = row.Add((int)host.Ids[i], host.Sampled[i], host.Policy[i], host.Raw?[i], host.Top?[i]);
                if (token is not null) row.Handle.Submission.OnToken!(token);
                if (row.FinishReason is not null) { row.Handle.Complete(row.ToSequence()); leaving.Add(first + i); }
            }
            catch (Exception e) { row.Handle.Fail(e); leaving.Add(first + i); }
        }
        return tokens;
    }

    void DropCancelled()
    {
        foreach (var w in waiting.Where(w => w.Handle.IsCancelled).ToList()) { w.Handle.Cancelled(); waiting.Remove(w); }
        var leaving = Enumerable.Range(0, active.Count).Where(s => active[s].Handle.IsCancelled).ToList();
        if (leaving.Count == 0) return;
        foreach (var s in leaving) active[s].Handle.Cancelled();
        using var scope = NewDisposeScope();
        Leave(leaving, lastTokens!);
    }

    /// <summary>Finished rows leave; the last rows move into their slots, and their next inputs (<paramref name="tokens"/>, (B) in the old slot order) with them.</summary>
    void Leave(List<int> leaving, Tensor tokens)
    {
        var from = leaving.Count == 0 ? Enumerable.Range(0, active.Count).ToArray() : cache.Compact(leaving);
        var rows = from.Select(f => active[f]).ToList();
        active.Clear();
        active.AddRange(rows);
        Tensor? next = rows.Count == 0 ? null
            : leaving.Count == 0 ? tokens.detach()
            : tokens.index_select(0, tensor(from.Select(f => (long)f).ToArray(), device: tokens.device));
        next?.DetachFromDisposeScope();
        lastTokens?.Dispose();
        lastTokens = next;
        if (leaving.Count == 0) return;
        // What the remaining rows can still fill: the budget admits against it, and a cache grown for a
        // long request that has left shrinks back (rows keep their slots: no row moves).
        maxReserved = 0;
        for (int slot = 0; slot < active.Count; slot++)
            maxReserved = Math.Max(maxReserved, cache.StartOf(slot) + active[slot].Prompt.Length + active[slot].Options.MaxTokens);
        if (active.Count > 0 && (cache.Capacity > 2 * maxReserved || cache.Slots > 2 * active.Count + 8))
            cache.Shrink(Math.Min(cache.Slots, active.Count + active.Count / 4 + 8), Math.Min(cache.Capacity, maxReserved)); // geometric: few reallocations as a batch drains
    }

    /// <summary>Moves waiting sequences into the batch, first come first served, while rows × the longest slot fit the budget.</summary>
    List<RowState> Admit()
    {
        var joiners = new List<RowState>();
        long longestPrompt = 0, longestNew = 0;
        foreach (var w in waiting)
        {
            int rows = active.Count + joiners.Count + 1;
            long prompt = Math.Max(longestPrompt, w.Prompt.Length);
            long fresh = Math.Max(longestNew, w.Options.MaxTokens);
            long slot = Math.Max(maxReserved, prompt + fresh);
            bool first = active.Count == 0 && joiners.Count == 0;                     // one over the budget runs alone
            if (!first && (rows > options.MaxRows || (double)rows * slot > options.KvBudgetTokens)) break;
            joiners.Add(w);
            (longestPrompt, longestNew) = (prompt, fresh);
        }
        if (joiners.Count == 0) return joiners;
        waiting.RemoveRange(0, joiners.Count);
        long reserved = Math.Max(maxReserved, longestPrompt + longestNew);
        int slots = active.Count + joiners.Count, rounded = Math.Min(options.MaxRows, (slots + 7) / 8 * 8);
        try
        {
            cache.Reserve((double)rounded * reserved <= options.KvBudgetTokens ? Math.Max(rounded, slots) : slots, reserved);
        }
        catch (Exception e)
        {
            // The cache could not grow (out of memory): the joiners end with that error, never left
            // neither waiting nor running (their callers would wait forever); the running rows go on.
            foreach (var j in joiners) j.Handle.Fail(e);
            return [];
        }
        maxReserved = reserved;
        active.AddRange(joiners);
        return joiners;
    }

    /// <summary>One token for each of the first <paramref name="rows"/> active rows: logits (B, V).</summary>
    Tensor Decode(int rows)
    {
        var (positions, mask) = cache.BeginDecode(rows);
        using var routing = Route(active.Take(rows).Select(r => r.Handle.Submission.Adapter).ToList());
        return model.Network.Forward(lastTokens!.unsqueeze(1), positions, mask, cache, lastOnly: true);
    }

    /// <summary>
    /// Prefills the joiners (already at the end of <see cref="active"/>): each distinct (prompt, adapter)
    /// once, left-padded to the longest, then its KV copied to the rows that share it. Logits (P, V) in
    /// the joiners' slot order.
    /// </summary>
    Tensor Prefill(List<RowState> joiners)
    {
        var device = model.Network.Device;
        var distinct = new List<RowState>();
        var sourceOf = new int[joiners.Count];                                           // joiner → its distinct prompt
        for (int j = 0; j < joiners.Count; j++)
        {
            var at = distinct.FindIndex(d => d.Handle.Submission.Adapter == joiners[j].Handle.Submission.Adapter && d.Prompt.AsSpan().SequenceEqual(joiners[j].Prompt));
            if (at < 0) { at = distinct.Count; distinct.Add(joiners[j]); }
            sourceOf[j] = at;
        }
        // The cache holds the distinct prompts first, then the copies: order the joiners' slots to match.
        int firstSlot = active.Count - joiners.Count;
        var order = Enumerable.Range(0, joiners.Count).OrderBy(j => distinct.IndexOf(joiners[j]) is var d && d >= 0 ? d : distinct.Count).ThenBy(j => j).ToArray();
        for (int i = 0; i < order.Length; i++) active[firstSlot + i] = joiners[order[i]];
        var slotSource = order.Select(j => sourceOf[j]).ToArray();                      // slot − firstSlot → distinct prompt

        int u = distinct.Count;
        long t = distinct.Max(d => d.Prompt.Length);
        var pads = distinct.Select(d => t - d.Prompt.Length).ToArray();
        var ids = new long[u * t];
        for (int r = 0; r < u; r++)
            for (int j = 0; j < distinct[r].Prompt.Length; j++) ids[r * t + pads[r] + j] = distinct[r].Prompt[j];
        var input = tensor(ids, new long[] { u, t }, device: device);
        var padT = tensor(pads, device: device).unsqueeze(1);                                   // (U, 1)
        var cols = arange(t, device: device).unsqueeze(0);                                      // (1, T)
        var positions = (cols - padT).clamp_min(0);                                             // (U, T)
        var keyValid = cols.ge(padT).unsqueeze(1);                                              // (U, 1, Tk)
        var causal = ones(t, t, ScalarType.Bool, device).tril().unsqueeze(0);                   // (1, T, Tk)
        var diag = eye(t, dtype: ScalarType.Bool, device: device).unsqueeze(0);
        var mask = causal.logical_and(keyValid).logical_or(diag).unsqueeze(1);                  // (U, 1, T, Tk)

        // Only the distinct prompts are prefilled: the cache counts the copies in afterwards.
        int activeBefore = cache.Rows;
        cache.BeginPrefill(pads, t);
        Tensor logits;
        using (var routing = Route(distinct.Select(d => d.Handle.Submission.Adapter).ToList()))
            logits = model.Network.Forward(input, positions, mask, cache, lastOnly: true);   // (U, V)
        for (int i = u; i < joiners.Count; i++) cache.Duplicate(activeBefore + slotSource[i], 1);
        return u == joiners.Count ? logits : logits.index_select(0, tensor(slotSource.Select(s => (long)s).ToArray(), device: device));
    }

    /// <summary>Routes the next forward's rows to their adapters (none when every row is on the base).</summary>
    LoraRouting? Route(IReadOnlyList<LoraWeights?> adapters)
    {
        var routing = adapters.All(a => a is null) ? null : LoraRouting.For(adapters, model.Network.Device);
        LoraRouting.Install(model.Network, routing);
        return routing;
    }

    public void Dispose()
    {
        foreach (var r in active.Concat(waiting)) r.Handle.Fail(new ObjectDisposedException(nameof(ContinuousBatcher)));
        while (submitted.TryDequeue(out var h)) h.Fail(new ObjectDisposedException(nameof(ContinuousBatcher)));
        active.Clear();
        waiting.Clear();
        cache.Dispose();
        lastTokens?.Dispose();
    }
}
