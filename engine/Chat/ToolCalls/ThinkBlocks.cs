namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Splits reasoning from the answer in <c>&lt;think&gt;…&lt;/think&gt;</c> outputs (Qwen3, DeepSeek-R1
/// distills, SmolLM3). The reasoning is everything before <c>&lt;/think&gt;</c>: a thinking model whose
/// prompt already ends in <c>&lt;think&gt;\n</c> (Qwen3-2507 Thinking) never writes the opening tag. Both
/// sides are stripped of newlines as Qwen3's own template does when it renders an assistant turn back
/// (<c>content.split('&lt;/think&gt;')[0].rstrip('\n').split('&lt;think&gt;')[-1].lstrip('\n')</c>), so a parsed
/// turn renders back to the same text. An output that opens <c>&lt;think&gt;</c> and never closes it was
/// cut off while thinking: all of it is reasoning.
/// </summary>
public static class ThinkBlocks
{
    public const string Open = "<think>";
    public const string Close = "</think>";

    /// <summary>The reasoning (null when none) and the index in <paramref name="output"/> where the answer starts.</summary>
    public static (string? Reasoning, int AnswerStart) Split(string output)
    {
        int close = output.IndexOf(Close, StringComparison.Ordinal);
        if (close < 0)
        {
            int first = output.Length - output.TrimStart().Length;
            if (!output.AsSpan(first).StartsWith(Open, StringComparison.Ordinal)) return (null, 0);
            return (NullIfEmpty(output[(first + Open.Length)..].Trim('\n')), output.Length);
        }
        var reasoning = output[..close];
        int open = reasoning.IndexOf(Open, StringComparison.Ordinal);
        if (open >= 0 && string.IsNullOrWhiteSpace(reasoning[..open])) reasoning = reasoning[(open + Open.Length)..];
        int start = close + Close.Length;
        while (start < output.Length && output[start] == '\n') start++;
        return (NullIfEmpty(reasoning.Trim('\n')), start);
    }

    static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
