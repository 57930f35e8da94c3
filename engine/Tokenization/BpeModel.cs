using System.Collections.Concurrent;
using System.Text;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// The <c>BPE</c> model of Hugging Face <c>tokenizers</c> (<c>models/bpe/model.rs</c>), rule for rule:
/// a word starts as its characters (Unicode scalars), each looked up in the vocabulary; a missing
/// one becomes its <c>&lt;0xNN&gt;</c> byte tokens with <c>byte_fallback</c>, else <c>unk_token</c>
/// (consecutive unknowns fused into one with <c>fuse_unk</c>); then the pair of lowest merge rank
/// is merged, leftmost first, until no pair has a rank. With <c>ignore_merges</c> (Llama-3) a word
/// that is itself in the vocabulary is that token, merges or not. Results of short words are cached.
/// </summary>
public sealed class BpeModel
{
    /// <summary>tokenizers caches words shorter than this many bytes (<c>MAX_LENGTH</c> in model.rs).</summary>
    const int CacheWordLength = 256;
    /// <summary>tokenizers' default cache capacity; past it new words are simply not cached.</summary>
    const int CacheCapacity = 10_000;

    readonly Dictionary<string, int> vocab;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> vocabBySpan;
    readonly string[] idToToken;
    readonly Dictionary<long, long> merges; // (left id << 32 | right id) → (rank << 32 | merged id)
    readonly int[] byteFallbackIds; // byte → id of "<0xNN>", when byte_fallback
    readonly int? unkId;
    readonly ConcurrentDictionary<string, int[]> cache = new();
    int cached; // entries in the cache: ConcurrentDictionary.Count takes every lock (up to 1,024), tens of µs per word
    readonly HashSet<char>? joinsBeforeMarker; // characters c for which some token contains "c▁"

    public BpeModel(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> mergeList,
        string? unkToken = null, bool byteFallback = false, bool fuseUnk = false, bool ignoreMerges = false,
        string? continuingSubwordPrefix = null, string? endOfWordSuffix = null, string source = "tokenizer")
    {
        vocab = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        idToToken = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) idToToken[id] = token;
        FuseUnk = fuseUnk;
        IgnoreMerges = ignoreMerges;
        Prefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        Suffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        if (unkToken is not null)
            unkId = vocab.TryGetValue(unkToken, out var u) ? u
                : throw new InvalidDataException($"{source}: model.unk_token '{unkToken}' is not in model.vocab; add it to the vocabulary or set unk_token to null.");
        if (byteFallback)
        {
            byteFallbackIds = new int[256];
            for (int b = 0; b < 256; b++) byteFallbackIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }
        else byteFallbackIds = [];
        if (vocab.ContainsKey(Marker.ToString()) && Prefix is null && Suffix is null)
        {
            joinsBeforeMarker = new HashSet<char>();
            foreach (var token in vocab.Keys)
                for (int i = 1; i < token.Length; i++)
                    if (token[i] == Marker && token[i - 1] != Marker) joinsBeforeMarker.Add(token[i - 1]);
        }
        merges = new Dictionary<long, long>(mergeList.Count, PairComparer.Instance);
        for (int rank = 0; rank < mergeList.Count; rank++)
        {
            var (a, b) = mergeList[rank];
            if (!vocab.TryGetValue(a, out var ia) || !vocab.TryGetValue(b, out var ib))
                throw new InvalidDataException($"{source}: model.merges[{rank}] ('{a}' '{b}') names a token that is not in model.vocab.");
            // With a continuing-subword prefix the right part carries it, the merged token does not twice.
            var merged = Prefix is not null && b.StartsWith(Prefix, StringComparison.Ordinal) ? a + b[Prefix.Length..] : a + b;
            if (!vocab.TryGetValue(merged, out var im))
                throw new InvalidDataException($"{source}: model.merges[{rank}] ('{a}' '{b}') makes '{merged}', which is not in model.vocab.");
            merges[(long)ia << 32 | (uint)ib] = (long)rank << 32 | (uint)im; // a repeated pair keeps its last rank, as tokenizers' HashMap collect does
        }
    }

    public bool FuseUnk { get; }
    public bool IgnoreMerges { get; }
    public string? Prefix { get; }
    public string? Suffix { get; }
    public IReadOnlyDictionary<string, int> Vocabulary => vocab;
    public int MaxId => idToToken.Length - 1;

    public int? TokenToId(ReadOnlySpan<char> token) => vocabBySpan.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)idToToken.Length ? idToToken[id] : null;

    /// <summary>SentencePiece's word marker.</summary>
    const char Marker = '\u2581';

    /// <summary>
    /// Appends the ids of one pre-tokenized word. SentencePiece-style models (Llama-2, Mistral, Gemma)
    /// see the whole text as one word; it is cut before each "▁" that follows a character c for which
    /// no token contains "c▁". Exact, not a heuristic: a merge across that boundary would create a
    /// token containing "c▁", and merges on either side never meet, so BPE on the parts equals BPE on
    /// the whole — while the parts are short enough to be cached.
    /// </summary>
    public void Tokenize(string word, List<int> output)
    {
        if (joinsBeforeMarker is not null && word.Length > 32 && !(IgnoreMerges && vocab.ContainsKey(word)))
        {
            int start = 0;
            for (int i = 1; i < word.Length; i++)
                if (word[i] == Marker && word[i - 1] != Marker && !joinsBeforeMarker.Contains(word[i - 1]))
                {
                    TokenizeWord(word[start..i], output);
                    start = i;
                }
            TokenizeWord(start == 0 ? word : word[start..], output);
            return;
        }
        TokenizeWord(word, output);
    }

    void TokenizeWord(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (IgnoreMerges && vocab.TryGetValue(word, out var whole)) { output.Add(whole); return; }
        if (cache.TryGetValue(word, out var hit)) { output.AddRange(hit); return; }
        var start = output.Count;
        MergeWord(word, output);
        if (word.Length < CacheWordLength && Volatile.Read(ref cached) < CacheCapacity
            && cache.TryAdd(word, output.GetRange(start, output.Count - start).ToArray()))
            Interlocked.Increment(ref cached);
    }

    void MergeWord(string word, List<int> output)
    {
        var symbols = new List<int>(word.Length);
        int pendingUnk = -1; // fused unknown waiting to be emitted
        for (int i = 0; i < word.Length;)
        {
            int length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            bool first = i == 0, last = i + length == word.Length;
            int? id = Prefix is null && Suffix is null
                ? TokenToId(word.AsSpan(i, length))
                : TokenToId(((first || Prefix is null ? "" : Prefix) + word.Substring(i, length) + (last && Suffix is not null ? Suffix : "")).AsSpan());
            var piece = word.AsSpan(i, length);
            i += length;
            if (id is int known)
            {
                if (pendingUnk >= 0) { symbols.Add(pendingUnk); pendingUnk = -1; }
                symbols.Add(known);
                continue;
            }
            if (byteFallbackIds.Length > 0 && TryByteFallback(piece, symbols)) continue;
            if (unkId is int unk)
            {
                if (pendingUnk >= 0 && !FuseUnk) symbols.Add(pendingUnk);
                pendingUnk = unk;
            }
        }
        if (pendingUnk >= 0) symbols.Add(pendingUnk);
        MergeAll(symbols);
        output.AddRange(symbols.Where(s => s >= 0));
    }

    bool TryByteFallback(ReadOnlySpan<char> piece, List<int> symbols)
    {
        Span<byte> bytes = stackalloc byte[4];
        int n = Encoding.UTF8.GetBytes(piece, bytes);
        for (int b = 0; b < n; b++) if (byteFallbackIds[bytes[b]] < 0) return false;
        for (int b = 0; b < n; b++) symbols.Add(byteFallbackIds[bytes[b]]);
        return true;
    }

    /// <summary>
    /// <c>Word::merge_all</c> of tokenizers: a heap of candidate pairs ordered by (rank, position),
    /// symbols in a doubly linked list, stale heap entries skipped. O(n log n) in the word's length,
    /// which matters for SentencePiece-style models whose "word" is a whole text without spaces split.
    /// </summary>
    void MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return;
        if (n <= 24) { MergeShort(symbols); return; }
        Span<int> prev = n <= 512 ? stackalloc int[n] : new int[n];
        Span<int> next = n <= 512 ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        var queue = new PriorityQueue<(int Pos, int NewId), long>();
        for (int i = 0; i + 1 < n; i++)
            if (merges.TryGetValue((long)symbols[i] << 32 | (uint)symbols[i + 1], out var m))
                queue.Enqueue((i, (int)m), (m & ~0xFFFFFFFFL) | (uint)i);
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (symbols[pos] < 0 || next[pos] < 0) continue; // removed, or the last symbol
            int right = next[pos];
            if (!merges.TryGetValue((long)symbols[pos] << 32 | (uint)symbols[right], out var current) || (int)current != top.NewId)
                continue; // an expired entry: one side has merged since
            symbols[pos] = top.NewId;
            symbols[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0 && merges.TryGetValue((long)symbols[prev[pos]] << 32 | (uint)symbols[pos], out var left))
                queue.Enqueue((prev[pos], (int)left), (left & ~0xFFFFFFFFL) | (uint)prev[pos]);
            if (next[pos] >= 0 && merges.TryGetValue((long)symbols[pos] << 32 | (uint)symbols[next[pos]], out var after))
                queue.Enqueue((pos, (int)after), (after & ~0xFFFFFFFFL) | (uint)pos);
        }
    }

    /// <summary>
    /// The same order for a short word without a heap: repeatedly the pair of lowest rank, leftmost
    /// among equals — what the heap pops first — merged in place. O(n²) lookups, cheaper below ~24 symbols.
    /// </summary>
    void MergeShort(List<int> symbols)
    {
        while (symbols.Count > 1)
        {
            long best = long.MaxValue;
            int at = -1;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (merges.TryGetValue((long)symbols[i] << 32 | (uint)symbols[i + 1], out var m) && (m >> 32) < (best >> 32)) { best = m; at = i; }
            if (at < 0) return;
            symbols[at] = (int)best;
            symbols.RemoveAt(at + 1);
        }
    }

    /// <summary>
    /// long's own hash of (left &lt;&lt; 32 | right) is left ^ right: merges are mostly between
    /// low ids, so that hash packs hundreds of thousands of pairs into a few thousand values and the
    /// lookups walk long chains. A multiplicative (Fibonacci) mix spreads them.
    /// </summary>
    sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long pair) => (int)((ulong)pair * 0x9E3779B97F4A7C15UL >> 32);
    }
}
