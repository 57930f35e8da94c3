using System.Globalization;
using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// Splits a template into data and tag tokens with the whitespace rules transformers configures
/// (jinja2 <c>lexer.py</c>): <c>trim_blocks</c> drops the first newline after a block or comment tag,
/// <c>lstrip_blocks</c> drops spaces and tabs before a block or comment tag that starts its line,
/// <c>{%-</c>/<c>-%}</c> strip all whitespace on that side, <c>{%+</c>/<c>+%}</c> turn the two options
/// off for that tag, and a single trailing newline of the template is removed
/// (<c>keep_trailing_newline=False</c>).
/// </summary>
public static class JinjaLexer
{
    public static List<JinjaToken> Tokenize(string source)
    {
        if (source.EndsWith("\r\n", StringComparison.Ordinal)) source = source[..^2];
        else if (source.EndsWith('\n')) source = source[..^1];
        var tokens = new List<JinjaToken>();
        int pos = 0, line = 1;
        bool lineStarting = true;
        while (pos < source.Length)
        {
            int open = FindTagOpen(source, pos);
            string data = open < 0 ? source[pos..] : source[pos..open];
            if (open < 0)
            {
                AddData(tokens, data, line);
                break;
            }
            char kind = source[open + 1];
            char modifier = open + 2 < source.Length ? source[open + 2] : '\0';
            if (modifier == '-') data = data.TrimEnd();
            else if (modifier != '+' && kind != '{')
            {
                // lstrip_blocks: jinja2 strips only when the text from the last newline (or the start of
                // a line) up to the tag is spaces and tabs.
                int lineStart = data.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && data.AsSpan(lineStart).IndexOfAnyExcept(' ', '\t') < 0)
                    data = data[..lineStart];
            }
            AddData(tokens, data, line);
            line += Count(source, pos, open, '\n');
            int bodyStart = open + 2 + (modifier is '-' or '+' ? 1 : 0);
            int end;
            bool stripAfter, keepNewline;
            if (kind == '#')
            {
                end = source.IndexOf("#}", bodyStart, StringComparison.Ordinal);
                if (end < 0) throw new JinjaException($"line {line}: the comment is never closed ('#}}' missing).");
                stripAfter = source[end - 1] == '-' && end - 1 >= bodyStart;
                keepNewline = source[end - 1] == '+' && end - 1 >= bodyStart;
                line += Count(source, open, end, '\n');
                pos = end + 2;
            }
            else
            {
                var begin = kind == '%' ? JinjaTokenKind.BlockBegin : JinjaTokenKind.VariableBegin;
                tokens.Add(new(begin, kind == '%' ? "{%" : "{{", line));
                pos = LexExpression(source, bodyStart, kind == '%' ? '%' : '}', tokens, ref line, out stripAfter, out keepNewline);
                tokens.Add(new(kind == '%' ? JinjaTokenKind.BlockEnd : JinjaTokenKind.VariableEnd, kind == '%' ? "%}" : "}}", line));
                if (kind == '%' && IsRawBlock(tokens))
                {
                    tokens.RemoveRange(tokens.Count - 3, 3);
                    pos = LexRaw(source, pos, tokens, ref line, stripAfter);
                    lineStarting = false;
                    continue;
                }
            }
            int after = pos;
            if (stripAfter) while (pos < source.Length && char.IsWhiteSpace(source[pos])) pos++;
            else if (kind != '{' && !keepNewline && pos < source.Length && source[pos] == '\n') pos++;
            line += Count(source, after, pos, '\n');
            lineStarting = pos > 0 && source[pos - 1] == '\n';
        }
        tokens.Add(new(JinjaTokenKind.End, "", line));
        return tokens;
    }

    static int FindTagOpen(string s, int from)
    {
        for (int i = s.IndexOf('{', from); i >= 0 && i + 1 < s.Length; i = s.IndexOf('{', i + 1))
            if (s[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    static void AddData(List<JinjaToken> tokens, string data, int line)
    {
        // jinja2 normalises newlines in template data to '\n' (newline_sequence).
        if (data.Length > 0) tokens.Add(new(JinjaTokenKind.Data, data.Contains('\r') ? data.Replace("\r\n", "\n").Replace('\r', '\n') : data, line));
    }

    static int Count(string s, int from, int to, char c)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (s[i] == c) n++;
        return n;
    }

    static bool IsRawBlock(List<JinjaToken> t) =>
        t.Count >= 3 && t[^3].Kind == JinjaTokenKind.BlockBegin && t[^2].IsName("raw") && t[^1].Kind == JinjaTokenKind.BlockEnd;

    static int LexRaw(string s, int pos, List<JinjaToken> tokens, ref int line, bool stripAfter)
    {
        if (stripAfter) while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
        else if (pos < s.Length && s[pos] == '\n') pos++;
        for (int i = s.IndexOf("{%", pos, StringComparison.Ordinal); i >= 0; i = s.IndexOf("{%", i + 2, StringComparison.Ordinal))
        {
            int j = i + 2;
            bool strip = j < s.Length && s[j] == '-';
            if (j < s.Length && s[j] is '-' or '+') j++;
            while (j < s.Length && char.IsWhiteSpace(s[j])) j++;
            if (string.CompareOrdinal(s, j, "endraw", 0, 6) != 0) continue;
            int close = s.IndexOf("%}", j, StringComparison.Ordinal);
            var text = s[pos..i];
            AddData(tokens, strip ? text.TrimEnd() : text, line);
            line += Count(s, pos, close, '\n');
            bool stripEnd = s[close - 1] == '-';
            pos = close + 2;
            if (stripEnd) while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
            else if (pos < s.Length && s[pos] == '\n') pos++;
            return pos;
        }
        throw new JinjaException($"line {line}: '{{% raw %}}' is never closed ('{{% endraw %}}' missing).");
    }

    /// <summary>Tokens of one tag's expression up to its closing <c>%}</c> or <c>}}</c>; returns the position after it.</summary>
    static int LexExpression(string s, int pos, char closer, List<JinjaToken> tokens, ref int line, out bool stripAfter, out bool keepNewline)
    {
        int depth = 0;
        while (true)
        {
            if (pos >= s.Length) throw new JinjaException($"line {line}: the tag is never closed ('{closer}}}' missing).");
            char c = s[pos];
            if (c == '\n') { line++; pos++; continue; }
            if (char.IsWhiteSpace(c)) { pos++; continue; }
            if (depth == 0 && c is '-' or '+' && pos + 2 < s.Length && s[pos + 1] == closer && s[pos + 2] == '}')
            {
                stripAfter = c == '-';
                keepNewline = c == '+';
                return pos + 3;
            }
            if (depth == 0 && c == closer && pos + 1 < s.Length && s[pos + 1] == '}')
            {
                stripAfter = keepNewline = false;
                return pos + 2;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int start = pos;
                while (pos < s.Length && (char.IsLetterOrDigit(s[pos]) || s[pos] == '_')) pos++;
                tokens.Add(new(JinjaTokenKind.Name, s[start..pos], line));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int start = pos;
                while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '_')) pos++;
                bool isFloat = false;
                if (pos + 1 < s.Length && s[pos] == '.' && char.IsAsciiDigit(s[pos + 1]))
                {
                    isFloat = true;
                    pos++;
                    while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '_')) pos++;
                }
                if (pos < s.Length && s[pos] is 'e' or 'E')
                {
                    int e = pos + 1;
                    if (e < s.Length && s[e] is '+' or '-') e++;
                    if (e < s.Length && char.IsAsciiDigit(s[e]))
                    {
                        isFloat = true;
                        pos = e;
                        while (pos < s.Length && char.IsAsciiDigit(s[pos])) pos++;
                    }
                }
                tokens.Add(new(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, s[start..pos].Replace("_", ""), line));
                continue;
            }
            if (c is '\'' or '"')
            {
                pos = LexString(s, pos, tokens, ref line);
                continue;
            }
            string op = pos + 1 < s.Length ? s.Substring(pos, 2) : "";
            if (op is "==" or "!=" or "<=" or ">=" or "//" or "**")
            {
                tokens.Add(new(JinjaTokenKind.Operator, op, line));
                pos += 2;
                continue;
            }
            if ("+-*/%~|.,:()[]{}<>=".Contains(c))
            {
                if (c is '(' or '[' or '{') depth++;
                else if (c is ')' or ']' or '}') depth--;
                tokens.Add(new(JinjaTokenKind.Operator, c.ToString(), line));
                pos++;
                continue;
            }
            throw new JinjaException($"line {line}: unexpected character '{c}' in a tag.");
        }
    }

    /// <summary>A quoted literal with Python's escapes (<c>\n</c>, <c>\t</c>, <c>\\</c>, <c>\'</c>, <c>\uXXXX</c>…).</summary>
    static int LexString(string s, int pos, List<JinjaToken> tokens, ref int line)
    {
        char quote = s[pos++];
        var sb = new StringBuilder();
        int startLine = line;
        while (true)
        {
            if (pos >= s.Length) throw new JinjaException($"line {startLine}: a string literal is never closed.");
            char c = s[pos++];
            if (c == quote) break;
            if (c == '\n') line++;
            if (c != '\\' || pos >= s.Length) { sb.Append(c); continue; }
            char e = s[pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case 'a': sb.Append('\a'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': line++; break;
                case 'x' when pos + 2 <= s.Length:
                    sb.Append((char)int.Parse(s.AsSpan(pos, 2), NumberStyles.HexNumber)); pos += 2; break;
                case 'u' when pos + 4 <= s.Length:
                    sb.Append((char)int.Parse(s.AsSpan(pos, 4), NumberStyles.HexNumber)); pos += 4; break;
                case 'U' when pos + 8 <= s.Length:
                    sb.Append(char.ConvertFromUtf32(int.Parse(s.AsSpan(pos, 8), NumberStyles.HexNumber))); pos += 8; break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        tokens.Add(new(JinjaTokenKind.String, sb.ToString(), startLine));
        return pos;
    }
}
