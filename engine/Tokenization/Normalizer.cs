using System.Text;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// tokenizer.json's <c>normalizer</c>: the text transformations tokenizers applies before
/// pre-tokenization (<c>normalizers/*.rs</c>). Only the output text matters here (no offsets).
/// </summary>
public abstract record Normalizer
{
    public abstract string Apply(string text);

    /// <summary>Unicode normalization form (<c>NFC</c>, <c>NFD</c>, <c>NFKC</c>, <c>NFKD</c>).</summary>
    public sealed record Unicode(NormalizationForm Form) : Normalizer
    {
        public override string Apply(string text) => UnicodeNormalization.Normalize(text, Form);
    }

    public sealed record Lowercase : Normalizer
    {
        public override string Apply(string text) => text.ToLowerInvariant();
    }

    /// <summary>Prepends a string to any non-empty text (Llama-2's <c>"▁"</c>).</summary>
    public sealed record Prepend(string Prefix) : Normalizer
    {
        public override string Apply(string text) => text.Length == 0 ? text : Prefix + text;
    }

    /// <summary>Replaces every match of a literal string or a regex by <c>content</c>.</summary>
    public sealed record Replace(string? Literal, Regex? Pattern, string Content) : Normalizer
    {
        public override string Apply(string text) =>
            Literal is not null ? text.Replace(Literal, Content, StringComparison.Ordinal) : Pattern!.Replace(text, Content.Replace("$", "$$"));
    }

    /// <summary>Strips whitespace on the left and/or right.</summary>
    public sealed record Strip(bool Left, bool Right) : Normalizer
    {
        public override string Apply(string text) => Left && Right ? text.Trim() : Left ? text.TrimStart() : Right ? text.TrimEnd() : text;
    }

    /// <summary>Removes combining marks (category Mn), as tokenizers' <c>StripAccents</c> after an NFD.</summary>
    public sealed record StripAccents : Normalizer
    {
        public override string Apply(string text)
        {
            var sb = new StringBuilder(text.Length);
            foreach (var c in text)
                if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark) sb.Append(c);
            return sb.ToString();
        }
    }

    public sealed record Sequence(IReadOnlyList<Normalizer> Steps) : Normalizer
    {
        public override string Apply(string text)
        {
            foreach (var step in Steps) text = step.Apply(text);
            return text;
        }
    }
}
