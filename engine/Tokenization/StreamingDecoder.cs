namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// Decodes a stream of generated ids into text deltas that never split a character: a token that
/// ends inside a UTF-8 sequence (byte-level or <c>&lt;0xNN&gt;</c> byte-fallback tokens) yields
/// nothing until the tokens that complete it arrive. The algorithm of tokenizers' <c>DecodeStream</c>
/// (tokenizer/mod.rs, <c>step_decode_stream</c>): decode the ids since the last emitted prefix, and
/// emit what extends that prefix once it no longer ends in U+FFFD. Keeping the previous tokens as
/// context also makes decoders that look at the first token (Metaspace, Strip) give the same text
/// as decoding everything at once. Like <c>DecodeStream</c>, it streams tokenizers' decode without
/// transformers' <c>clean_up_tokenization_spaces</c>, which rewrites text already emitted.
/// </summary>
public sealed class StreamingDecoder(TextTokenizer tokenizer, bool skipSpecialTokens = false)
{
    readonly List<int> ids = new();
    string prefix = "";
    int prefixIndex;

    /// <summary>The new text this id completes, or "" while a character is still incomplete.</summary>
    public string Push(int id)
    {
        ids.Add(id);
        var text = tokenizer.DecodeTokens(ids, skipSpecialTokens);
        if (text.Length <= prefix.Length || text.EndsWith('\uFFFD')) return "";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
            throw new InvalidOperationException($"Streaming decode: the text of the ids so far no longer starts with what was already emitted ('{prefix}' → '{text}').");
        var delta = text[prefix.Length..];
        // Keep only the tokens since the previous prefix as context for the next step.
        int newPrefixIndex = ids.Count - prefixIndex;
        ids.RemoveRange(0, prefixIndex);
        prefix = tokenizer.DecodeTokens(ids, skipSpecialTokens);
        prefixIndex = newPrefixIndex;
        return delta;
    }

    /// <summary>What is left at the end of the stream (an incomplete character decodes as U+FFFD here).</summary>
    public string Flush()
    {
        var text = tokenizer.DecodeTokens(ids, skipSpecialTokens);
        var rest = text.Length > prefix.Length && text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : "";
        ids.Clear();
        prefix = "";
        prefixIndex = 0;
        return rest;
    }
}
