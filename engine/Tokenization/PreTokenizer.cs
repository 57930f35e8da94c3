using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>A piece of text on its way to the model; <c>AtStart</c>: it begins at offset 0 of the input (Metaspace's <c>first</c>).</summary>
public readonly record struct TextPiece(string Text, bool AtStart);

/// <summary>How a split keeps its delimiters: tokenizers' <c>SplitDelimiterBehavior</c>.</summary>
public enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// tokenizer.json's <c>pre_tokenizer</c>: splits (normalized) text into the words the model sees,
/// as tokenizers' <c>pre_tokenizers/*.rs</c> do. Each step maps the list of pieces to a new list.
/// </summary>
public abstract record PreTokenizer
{
    /// <summary>GPT-2's pattern, which <c>ByteLevel</c> with <c>use_regex</c> splits on (byte_level.rs).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static readonly Regex gpt2 = new(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public abstract void Apply(List<TextPiece> input, List<TextPiece> output);

    /// <summary>Splits on a regex or literal (<c>Split</c>); <c>invert</c> splits on what does not match.</summary>
    public sealed record Split(Regex Pattern, SplitBehavior Behavior, bool Invert) : PreTokenizer
    {
        public override void Apply(List<TextPiece> input, List<TextPiece> output)
        {
            foreach (var piece in input) SplitPiece(piece, RegexSegments(Pattern, piece.Text, Invert), Behavior, output);
        }
    }

    /// <summary>GPT-2's byte-to-character map, after an optional prefix space and the GPT-2 split (<c>ByteLevel</c>).</summary>
    public sealed record ByteLevel(bool AddPrefixSpace, bool UseRegex) : PreTokenizer
    {
        public override void Apply(List<TextPiece> input, List<TextPiece> output)
        {
            foreach (var piece in input)
            {
                var text = AddPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
                if (!UseRegex) { output.Add(piece with { Text = ToByteLevel(text) }); continue; }
                int first = output.Count;
                SplitPiece(piece with { Text = text }, RegexSegments(gpt2, text, false), SplitBehavior.Isolated, output);
                for (int i = first; i < output.Count; i++) output[i] = output[i] with { Text = ToByteLevel(output[i].Text) };
            }
        }
    }

    /// <summary>
    /// SentencePiece's whitespace marker (<c>Metaspace</c>): spaces become <c>replacement</c>, which is
    /// prepended per <c>prepend_scheme</c> (<c>always</c>; <c>first</c>: only to the piece at the
    /// input's start; <c>never</c>), and with <c>split</c> each marker starts a new word.
    /// </summary>
    public sealed record Metaspace(char Replacement, string PrependScheme, bool SplitWords) : PreTokenizer
    {
        public override void Apply(List<TextPiece> input, List<TextPiece> output)
        {
            var marker = Replacement.ToString();
            foreach (var piece in input)
            {
                var text = piece.Text.Replace(" ", marker, StringComparison.Ordinal);
                bool prepend = PrependScheme switch { "always" => true, "first" => piece.AtStart, _ => false };
                if (prepend && !text.StartsWith(Replacement)) text = marker + text;
                if (!SplitWords) { output.Add(piece with { Text = text }); continue; }
                SplitPiece(piece with { Text = text }, CharSegments(text, r => r.Value == Replacement), SplitBehavior.MergedWithNext, output);
            }
        }
    }

    /// <summary>Digits apart from the rest (<c>Digits</c>): each alone with <c>individual_digits</c>, else runs.</summary>
    public sealed record Digits(bool IndividualDigits) : PreTokenizer
    {
        public override void Apply(List<TextPiece> input, List<TextPiece> output)
        {
            foreach (var piece in input)
                SplitPiece(piece, CharSegments(piece.Text, Rune.IsNumber), IndividualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, output);
        }
    }

    public sealed record Sequence(IReadOnlyList<PreTokenizer> Steps) : PreTokenizer
    {
        public override void Apply(List<TextPiece> input, List<TextPiece> output)
        {
            var current = input;
            for (int i = 0; i < Steps.Count; i++)
            {
                var target = i == Steps.Count - 1 ? output : new List<TextPiece>(current.Count * 2);
                Steps[i].Apply(current, target);
                current = target;
            }
            if (Steps.Count == 0) output.AddRange(input);
        }
    }

    public static string ToByteLevel(string text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        if (count == text.Length)
        {
            bool unchanged = true;
            foreach (var c in text) if (ByteLevelAlphabet.ToChar((byte)c) != c) { unchanged = false; break; }
            if (unchanged) return text;
        }
        Span<byte> bytes = count <= 1024 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(text, bytes);
        return ByteLevelAlphabet.Encode(bytes);
    }

    /// <summary>
    /// (start, end, isMatch) covering the text: tokenizers' <c>Pattern::find_matches</c> for a regex.
    /// .NET regexes see UTF-16 units, so a letter or digit beyond U+FFFF (𝟏, 𠀀) would not match
    /// <c>\p{L}</c>/<c>\p{N}</c> as it does in tokenizers' Oniguruma; for patterns with category
    /// classes such code points are matched as one stand-in character of the same class.
    /// </summary>
    static List<(int Start, int End, bool Match)> RegexSegments(Regex pattern, string text, bool invert)
    {
        int[]? map = null; // stand-in index → original index
        var subject = text;
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDBFF') >= 0 && pattern.ToString().Contains(@"\p{", StringComparison.Ordinal))
            (subject, map) = WithStandIns(text);
        var segments = new List<(int, int, bool)>();
        int prev = 0;
        foreach (var m in pattern.EnumerateMatches(subject))
        {
            if (m.Length == 0) continue;
            int start = map is null ? m.Index : map[m.Index], end = map is null ? m.Index + m.Length : map[m.Index + m.Length];
            if (prev != start) segments.Add((prev, start, invert));
            segments.Add((start, end, !invert));
            prev = end;
        }
        if (prev != text.Length || text.Length == 0) segments.Add((prev, text.Length, invert));
        return segments;
    }

    /// <summary>
    /// A BMP character of each general category (indexed by <see cref="UnicodeCategory"/>), none of
    /// which real split patterns name literally: a supplementary code point is matched as the one of
    /// its own category, so \p{Lu}, \p{Ll}, \p{N}, \p{M}… classes (o200k-style patterns) decide as
    /// they would on the code point itself.
    /// </summary>
    static readonly char[] standIns =
    [
        '\u0100', '\u0101', '\u01C5', '\u02B0', '\u00AA', // Lu Ll Lt Lm Lo
        '\u0300', '\u0903', '\u20DD',                     // Mn Mc Me
        '\u0660', '\u2160', '\u00B2',                     // Nd Nl No
        '\u00A0', '\u2028', '\u2029',                     // Zs Zl Zp (none beyond U+FFFF)
        '\u0001', '\u00AD', '\uFFFD', '\uE000',           // Cc Cf Cs(unused) Co
        '\u2040', '\u2010', '\u2045', '\u2046', '\u00AB', '\u00BB', '\u00A1', // Pc Pd Ps Pe Pi Pf Po
        '\u00AC', '\u00A2', '\u02C2', '\u00A6',           // Sm Sc Sk So
        '\u0378',                                           // Cn
    ];

    /// <summary>Each supplementary code point as one BMP character of its category (<see cref="standIns"/>), with the map back to the original indexes.</summary>
    static (string, int[]) WithStandIns(string text)
    {
        var sb = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            map.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(standIns[(int)CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))]);
                i++;
            }
            else sb.Append(text[i]);
        }
        map.Add(text.Length);
        return (sb.ToString(), map.ToArray());
    }

    /// <summary>Each code point that satisfies the predicate is its own match (tokenizers' <c>Fn(char) -> bool</c> pattern).</summary>
    static List<(int Start, int End, bool Match)> CharSegments(string text, Func<Rune, bool> predicate)
    {
        var segments = new List<(int, int, bool)>();
        int last = 0;
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int length);
            if (predicate(rune))
            {
                if (last < i) segments.Add((last, i, false));
                segments.Add((i, i + length, true));
                last = i + length;
            }
            i += length;
        }
        if (last < text.Length || text.Length == 0) segments.Add((last, text.Length, false));
        return segments;
    }

    /// <summary>Applies a delimiter behaviour to the segments (<c>NormalizedString::split</c>), dropping empty pieces.</summary>
    static void SplitPiece(TextPiece piece, List<(int Start, int End, bool Match)> segments, SplitBehavior behavior, List<TextPiece> output)
    {
        var kept = new List<(int Start, int End, bool Remove)>(segments.Count);
        bool previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var (s, e, _) in segments) kept.Add((s, e, false));
                break;
            case SplitBehavior.Removed:
                foreach (var (s, e, m) in segments) kept.Add((s, e, m));
                break;
            case SplitBehavior.Contiguous:
                foreach (var (s, e, m) in segments)
                {
                    if (m == previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, e, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var (s, e, m) in segments)
                {
                    if (m && !previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, e, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = segments.Count - 1; i >= 0; i--)
                {
                    var (s, e, m) = segments[i];
                    if (m && !previousMatch && kept.Count > 0) kept[^1] = (s, kept[^1].End, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                kept.Reverse();
                break;
        }
        foreach (var (s, e, remove) in kept)
            if (!remove && e > s) output.Add(new TextPiece(s == 0 && e == piece.Text.Length ? piece.Text : piece.Text[s..e], piece.AtStart && s == 0));
    }
}
