namespace Orleans.Rft.Engine.Tokenization;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>, with the flags tokenizers honours.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false, bool Normalized = false);

/// <summary>
/// Added and special tokens, found in the text before anything else (tokenizers'
/// <c>AddedVocabulary::extract_and_normalize</c>): tokens with <c>normalized: false</c> are matched in
/// the raw text; the rest of the text is normalized, and tokens with <c>normalized: true</c> are
/// matched (by their normalized form) in that. Matching is leftmost-longest; <c>single_word</c> rejects
/// a match inside a word, <c>lstrip</c>/<c>rstrip</c> swallow the whitespace beside it.
/// </summary>
public sealed class AddedVocabulary
{
    readonly Trie raw, normalized;
    readonly Dictionary<int, AddedToken> byId = new();
    readonly Dictionary<string, AddedToken> byContent = new(StringComparer.Ordinal);

    public AddedVocabulary(IEnumerable<AddedToken> tokens, Normalizer? normalizer)
    {
        raw = new Trie();
        normalized = new Trie();
        foreach (var t in tokens)
        {
            byId[t.Id] = t;
            byContent[t.Content] = t;
            if (t.Normalized) normalized.Add(normalizer is null ? t.Content : normalizer.Apply(t.Content), t);
            else raw.Add(t.Content, t);
        }
    }

    public IReadOnlyCollection<AddedToken> Tokens => byId.Values;
    public AddedToken? ById(int id) => byId.GetValueOrDefault(id);
    public AddedToken? ByContent(string content) => byContent.GetValueOrDefault(content);

    /// <summary>Splits the text into added-token ids and normalized pieces for the pre-tokenizer, in order.</summary>
    public void Extract(string text, Normalizer? normalizer, List<(int AddedId, TextPiece Piece)> output)
    {
        foreach (var (id, start, end) in Find(raw, text))
        {
            if (id >= 0) { output.Add((id, default)); continue; }
            var piece = text[start..end];
            var norm = normalizer is null ? piece : normalizer.Apply(piece);
            if (normalized.IsEmpty) { output.Add((-1, new TextPiece(norm, start == 0))); continue; }
            foreach (var (nid, ns, ne) in Find(normalized, norm))
                output.Add(nid >= 0 ? (nid, default) : (-1, new TextPiece(norm[ns..ne], start == 0 && ns == 0)));
        }
    }

    /// <summary>tokenizers' <c>find_matches</c>: (id or -1, start, end) covering the text.</summary>
    static List<(int Id, int Start, int End)> Find(Trie trie, string text)
    {
        var result = new List<(int, int, int)>();
        if (text.Length == 0 || trie.IsEmpty) { result.Add((-1, 0, text.Length)); return result; }
        int offset = 0;
        for (int i = 0; i < text.Length;)
        {
            var match = trie.LongestAt(text, i);
            if (match is null) { i++; continue; }
            var token = match.Value.Token;
            int start = i, stop = i + match.Value.Length;
            i = stop;
            if (token.SingleWord && ((start > 0 && IsWordChar(text[start - 1])) || (stop < text.Length && IsWordChar(text[stop])))) continue;
            if (token.LStrip)
            {
                int s = start;
                while (s > 0 && char.IsWhiteSpace(text[s - 1])) s--;
                start = Math.Max(s, offset);
            }
            if (token.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (offset < start) result.Add((-1, offset, start));
            result.Add((token.Id, start, stop));
            offset = stop;
            i = Math.Max(i, stop);
        }
        if (offset < text.Length) result.Add((-1, offset, text.Length));
        return result;
    }

    static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    sealed class Trie
    {
        sealed class Node { public Dictionary<char, Node>? Next; public AddedToken? Token; }
        readonly Node root = new();

        public bool IsEmpty => root.Next is null;

        public void Add(string key, AddedToken token)
        {
            if (key.Length == 0) return;
            var node = root;
            foreach (var c in key)
            {
                node.Next ??= new Dictionary<char, Node>();
                if (!node.Next.TryGetValue(c, out var child)) node.Next[c] = child = new Node();
                node = child;
            }
            node.Token ??= token;
        }

        public (AddedToken Token, int Length)? LongestAt(string text, int start)
        {
            var node = root;
            (AddedToken, int)? best = null;
            for (int i = start; i < text.Length && node.Next is not null && node.Next.TryGetValue(text[i], out node); i++)
                if (node.Token is not null) best = (node.Token, i - start + 1);
            return best;
        }
    }
}
