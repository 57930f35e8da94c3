namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Pythonic tool calls, as Llama 3.2 / Llama 4's pythonic templates (and Gemma 3's, Phi's ToolACE-style
/// ones) ask for: the turn is a Python list of keyword calls, <c>[get_weather(city='Paris'), f(x=1)]</c>,
/// optionally wrapped in Llama 4's <c>&lt;|python_start|&gt;…&lt;|python_end|&gt;</c>. Only a turn that opens
/// with <c>[name(</c> is read as calls (prose that happens to contain brackets stays content); the list is
/// taken whole or not at all, since after a bad literal the element boundaries are unknown. Text after
/// the list is content.
/// </summary>
public sealed class PythonicToolCallParser : ToolCallParser
{
    public const string PythonStart = "<|python_start|>";
    public const string PythonEnd = "<|python_end|>";

    public override string Name => "pythonic";

    protected override void FindCalls(string output, int start, Scan scan)
    {
        int spanStart = JsonSpan.SkipWhitespace(output, start);
        int i = spanStart;
        bool wrapped = output.AsSpan(i).StartsWith(PythonStart, StringComparison.Ordinal);
        if (wrapped) i = JsonSpan.SkipWhitespace(output, i + PythonStart.Length);
        if (!OpensCallList(output, i))
        {
            if (wrapped) scan.Error(spanStart, "<|python_start|> is not followed by a call list [name(arg=value), …]");
            return;
        }
        var reader = new PythonLiteralReader(output, i);
        List<(string Name, System.Text.Json.Nodes.JsonObject Arguments)> calls;
        try { calls = reader.ReadCallList(); }
        catch (PythonLiteralReader.SyntaxError e)
        {
            scan.Error(spanStart, $"character {e.Position}: {e.Message}");
            return;
        }
        int end = JsonSpan.SkipWhitespace(output, reader.Position);
        if (wrapped && output.AsSpan(end).StartsWith(PythonEnd, StringComparison.Ordinal)) end += PythonEnd.Length;
        foreach (var (name, arguments) in calls) scan.Call(name, arguments);
        scan.Consume(spanStart, end);
    }

    /// <summary><c>[</c>, optional whitespace, an identifier, optional dotted parts, optional whitespace, <c>(</c>.</summary>
    static bool OpensCallList(string text, int i)
    {
        if (i >= text.Length || text[i] != '[') return false;
        int j = JsonSpan.SkipWhitespace(text, i + 1);
        if (j >= text.Length || !(char.IsLetter(text[j]) || text[j] == '_')) return false;
        while (j < text.Length && (char.IsLetterOrDigit(text[j]) || text[j] is '_' or '.')) j++;
        j = JsonSpan.SkipWhitespace(text, j);
        return j < text.Length && text[j] == '(';
    }
}
