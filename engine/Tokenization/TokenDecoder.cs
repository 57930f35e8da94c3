using System.Text;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// tokenizer.json's <c>decoder</c>: turns token strings back into text, step by step as
/// tokenizers' <c>decoders/*.rs</c> do (<c>decode_chain</c>, then the pieces are concatenated).
/// </summary>
public abstract record TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    /// <summary>
    /// <c>ByteLevel</c>: every character maps back to its byte; a token with a character outside the
    /// alphabet (an added token such as "&lt;|im_start|&gt;" is inside it, "你好" is not) is kept as its
    /// UTF-8 bytes. Invalid UTF-8 becomes U+FFFD, as <c>from_utf8_lossy</c>.
    /// </summary>
    public sealed record ByteLevel : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (var token in tokens)
            {
                int start = bytes.Count;
                bool mapped = true;
                foreach (var c in token)
                {
                    int b = ByteLevelAlphabet.ToByte(c);
                    if (b < 0) { mapped = false; break; }
                    bytes.Add((byte)b);
                }
                if (!mapped)
                {
                    bytes.RemoveRange(start, bytes.Count - start);
                    bytes.AddRange(Encoding.UTF8.GetBytes(token));
                }
            }
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    /// <summary><c>Metaspace</c>: the marker becomes a space, except that in the first token it is dropped (unless <c>prepend_scheme</c> is <c>never</c>).</summary>
    public sealed record Metaspace(char Replacement, bool DropInFirst) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                var sb = new StringBuilder(tokens[i].Length);
                foreach (var c in tokens[i])
                    if (c != Replacement) sb.Append(c);
                    else if (!(i == 0 && DropInFirst)) sb.Append(' ');
                result.Add(sb.ToString());
            }
            return result;
        }
    }

    public sealed record Replace(string Pattern, string Content) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t => t.Replace(Pattern, Content, StringComparison.Ordinal)).ToList();
    }

    /// <summary><c>ByteFallback</c>: runs of <c>&lt;0xNN&gt;</c> tokens become their UTF-8 text, or one U+FFFD per byte when invalid.</summary>
    public sealed record ByteFallback : TokenDecoder
    {
        static readonly UTF8Encoding strict = new(false, throwOnInvalidBytes: true);

        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>(tokens.Count);
            var pending = new List<byte>();
            foreach (var token in tokens)
            {
                if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>' &&
                    byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
                {
                    pending.Add(b);
                    continue;
                }
                Flush(pending, result);
                result.Add(token);
            }
            Flush(pending, result);
            return result;
        }

        static void Flush(List<byte> pending, List<string> result)
        {
            if (pending.Count == 0) return;
            try { result.Add(strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { for (int i = 0; i < pending.Count; i++) result.Add("\uFFFD"); }
            pending.Clear();
        }
    }

    /// <summary><c>Fuse</c>: all tokens into one string (so that a later <c>Strip</c> acts on the whole text).</summary>
    public sealed record Fuse : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
    }

    /// <summary><c>Strip</c>: up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters off each token.</summary>
    public sealed record Strip(char Content, int Start, int Stop) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => tokens.Select(StripOne).ToList();

        string StripOne(string token)
        {
            int from = 0, to = token.Length;
            while (from < Start && from < token.Length && token[from] == Content) from++;
            for (int i = 0; i < Stop && to > from && token[to - 1] == Content; i++) to--;
            return token[from..to];
        }
    }

    public sealed record Sequence(IReadOnlyList<TokenDecoder> Steps) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            foreach (var step in Steps) tokens = step.DecodeChain(tokens);
            return tokens;
        }
    }

    /// <summary>No decoder in tokenizer.json: tokenizers joins the tokens with spaces.</summary>
    public sealed record Join : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Join(' ', tokens)];
    }
}
