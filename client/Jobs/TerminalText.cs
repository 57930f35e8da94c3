using System.Text;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// Text from a job (model output, tool results, agent and evaluator messages) made safe to print on a
/// terminal: C0 and C1 control characters (and DEL) other than newline and tab become U+FFFD, so an
/// escape sequence in a rollout (ESC [ …, OSC 8 links, a carriage return that overwrites a line) is
/// shown, not obeyed (ECMA-48 §5: C0 is U+0000–001F, C1 is U+0080–009F).
/// </summary>
public static class TerminalText
{
    public const char Replacement = '\uFFFD';

    public static bool IsControl(char c) => c is (< '\u0020' and not '\n' and not '\t') or '\u007F' or (>= '\u0080' and <= '\u009F');

    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        int first = 0;
        while (first < text.Length && !IsControl(text[first])) first++;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length).Append(text, 0, first);
        for (int j = first; j < text.Length; j++) sb.Append(IsControl(text[j]) ? Replacement : text[j]);
        return sb.ToString();
    }
}
