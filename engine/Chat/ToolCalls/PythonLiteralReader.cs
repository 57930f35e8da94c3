using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Reads a pythonic call list, <c>[get_weather(city='Paris'), f(x=1, tags=["a", "b"])]</c>, with the
/// values restricted to Python literals (what <c>ast.literal_eval</c> accepts, as vLLM's pythonic
/// parser does): strings in single, double or triple quotes with their escapes, adjacent strings
/// concatenated, <c>r</c>/<c>u</c> prefixes, ints (decimal, 0x, 0o, 0b, underscores, any size),
/// floats, <c>True</c>/<c>False</c>/<c>None</c> (and JSON's <c>true</c>/<c>false</c>/<c>null</c>, which
/// models mix in), lists, tuples and dicts. Every argument must be named. Errors carry the character
/// offset in the output.
/// </summary>
sealed class PythonLiteralReader(string text, int position)
{
    public sealed class SyntaxError(int position, string message) : FormatException(message)
    {
        public int Position { get; } = position;
    }

    int pos = position;

    public int Position => pos;

    /// <summary>Reads <c>[call, call, …]</c> starting at the <c>[</c>; <see cref="Position"/> is then just past the <c>]</c>.</summary>
    public List<(string Name, JsonObject Arguments)> ReadCallList()
    {
        Expect('[');
        var calls = new List<(string, JsonObject)>();
        while (true)
        {
            SkipWhitespace();
            if (TryTake(']')) return calls;
            calls.Add(ReadCall());
            SkipWhitespace();
            if (TryTake(']')) return calls;
            Expect(',', "',' or ']' after a call");
        }
    }

    (string, JsonObject) ReadCall()
    {
        int at = pos;
        var name = ReadIdentifier("a function name");
        while (Peek() == '.') { pos++; name += "." + ReadIdentifier("a name after '.'"); }
        SkipWhitespace();
        Expect('(', $"'(' after the function name '{name}'");
        var arguments = new JsonObject();
        while (true)
        {
            SkipWhitespace();
            if (TryTake(')')) return (name, arguments);
            int argAt = pos;
            if (!IsIdentifierStart(Peek())) throw new SyntaxError(argAt, $"{name}(…): a positional argument; pythonic calls must name every argument (param=value)");
            var key = ReadIdentifier("an argument name");
            SkipWhitespace();
            if (!TryTake('=')) throw new SyntaxError(argAt, $"{name}(…): '{key}' is a positional argument; pythonic calls must name every argument (param=value)");
            if (arguments.ContainsKey(key)) throw new SyntaxError(argAt, $"{name}(…): argument '{key}' is given twice");
            SkipWhitespace();
            arguments[key] = ReadValue();
            SkipWhitespace();
            if (TryTake(')')) return (name, arguments);
            Expect(',', $"',' or ')' in the arguments of {name}");
        }
    }

    JsonNode? ReadValue()
    {
        SkipWhitespace();
        int at = pos;
        char c = Peek();
        switch (c)
        {
            case '[': pos++; return new JsonArray(ReadItems(']').ToArray());
            case '(':
            {
                pos++;
                var items = ReadItems(')', out bool trailingComma);
                return items.Count == 1 && !trailingComma ? items[0] : new JsonArray(items.ToArray()); // (x) is x, (x,) a tuple
            }
            case '{': pos++; return ReadDict(at);
            case '"' or '\'': return JsonValue.Create(ReadStrings());
            case '-' or '+':
            {
                pos++;
                SkipWhitespace();
                if (!char.IsAsciiDigit(Peek()) && Peek() != '.') throw new SyntaxError(at, $"'{c}' is not followed by a number");
                return ReadNumber(negative: c == '-');
            }
        }
        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(PeekAt(1)))) return ReadNumber(negative: false);
        if (IsIdentifierStart(c))
        {
            int quote = StringPrefixLength();
            if (quote > 0) return JsonValue.Create(ReadStrings());
            var word = ReadIdentifier("a value");
            switch (word)
            {
                case "True" or "true": return JsonValue.Create(true);
                case "False" or "false": return JsonValue.Create(false);
                case "None" or "null": return null;
            }
            SkipWhitespace();
            throw new SyntaxError(at, Peek() is '(' or '.' ? $"'{word}…' is a call or an expression, not a literal value" : $"'{word}' is a variable, not a literal value");
        }
        if (at >= text.Length) throw new SyntaxError(at, "the output ends inside the call list (truncated)");
        throw new SyntaxError(at, $"'{c}' cannot start a value");
    }

    List<JsonNode?> ReadItems(char close) => ReadItems(close, out _);

    List<JsonNode?> ReadItems(char close, out bool trailingComma)
    {
        var items = new List<JsonNode?>();
        trailingComma = false;
        while (true)
        {
            SkipWhitespace();
            if (TryTake(close)) return items;
            items.Add(ReadValue());
            SkipWhitespace();
            trailingComma = false;
            if (TryTake(close)) return items;
            Expect(',', $"',' or '{close}'");
            trailingComma = true;
        }
    }

    JsonObject ReadDict(int at)
    {
        var dict = new JsonObject();
        while (true)
        {
            SkipWhitespace();
            if (TryTake('}')) return dict;
            int keyAt = pos;
            var key = ReadValue();
            SkipWhitespace();
            if (Peek() is ',' or '}') throw new SyntaxError(at, "a set is not a JSON value; write a list [...] or a dict {key: value}");
            Expect(':', "':' after a dict key");
            // json.dumps turns int, float, bool and None keys into strings the same way
            dict[KeyText(key, keyAt)] = ReadValue();
            SkipWhitespace();
            if (TryTake('}')) return dict;
            Expect(',', "',' or '}' in a dict");
        }
    }

    static string KeyText(JsonNode? key, int at) => key switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v => PythonJson.Dumps(v),
        _ => throw new SyntaxError(at, "a list or dict cannot be a dict key"),
    };

    /// <summary>One or more adjacent string literals, concatenated as Python does.</summary>
    string ReadStrings()
    {
        var sb = new StringBuilder();
        do
        {
            ReadString(sb);
            SkipWhitespace();
        }
        while (Peek() is '"' or '\'' || (IsIdentifierStart(Peek()) && StringPrefixLength() > 0));
        return sb.ToString();
    }

    /// <summary>Length of a string prefix (r, u, b, f and pairs) directly followed by a quote, else 0.</summary>
    int StringPrefixLength()
    {
        int n = 0;
        while (n < 2 && "rRuUbBfF".Contains(PeekAt(n))) n++;
        for (; n > 0; n--)
            if (PeekAt(n) is '"' or '\'') return n;
        return 0;
    }

    void ReadString(StringBuilder sb)
    {
        int at = pos;
        int prefix = StringPrefixLength();
        var flags = text.Substring(pos, prefix).ToLowerInvariant();
        if (flags.Contains('b')) throw new SyntaxError(at, "a bytes literal b'…' is not a JSON value; write a str");
        if (flags.Contains('f')) throw new SyntaxError(at, "an f-string is not a literal; write the value itself");
        bool raw = flags.Contains('r');
        pos += prefix;
        char quote = text[pos];
        bool triple = PeekAt(1) == quote && PeekAt(2) == quote;
        pos += triple ? 3 : 1;
        while (true)
        {
            if (pos >= text.Length) throw new SyntaxError(at, "the string is never closed (truncated output)");
            char c = text[pos];
            if (c == quote && (!triple || (PeekAt(1) == quote && PeekAt(2) == quote)))
            {
                pos += triple ? 3 : 1;
                return;
            }
            if (c == '\n' && !triple) throw new SyntaxError(at, "a line break inside a '…' string; write \\n or use triple quotes");
            if (c != '\\') { sb.Append(c); pos++; continue; }
            if (pos + 1 >= text.Length) throw new SyntaxError(at, "the string is never closed (truncated output)");
            if (raw)
            {
                sb.Append(c).Append(text[pos + 1]); // in r'…' a backslash only keeps the quote from ending the string
                pos += 2;
                continue;
            }
            ReadEscape(sb, at);
        }
    }

    void ReadEscape(StringBuilder sb, int stringAt)
    {
        int at = pos;
        char e = text[pos + 1];
        pos += 2;
        switch (e)
        {
            case '\n': break; // line continuation
            case '\\': sb.Append('\\'); break;
            case '\'': sb.Append('\''); break;
            case '"': sb.Append('"'); break;
            case 'a': sb.Append('\a'); break;
            case 'b': sb.Append('\b'); break;
            case 'f': sb.Append('\f'); break;
            case 'n': sb.Append('\n'); break;
            case 'r': sb.Append('\r'); break;
            case 't': sb.Append('\t'); break;
            case 'v': sb.Append('\v'); break;
            case 'x': AppendCodePoint(sb, ReadHex(2, at), at); break;
            case 'u': AppendCodePoint(sb, ReadHex(4, at), at); break;
            case 'U': AppendCodePoint(sb, ReadHex(8, at), at); break;
            case 'N': throw new SyntaxError(at, "\\N{name} escapes are not supported; write the character itself or \\uXXXX");
            case >= '0' and <= '7':
            {
                int value = e - '0';
                for (int k = 0; k < 2 && Peek() is >= '0' and <= '7'; k++) value = value * 8 + (text[pos++] - '0');
                AppendCodePoint(sb, value, at);
                break;
            }
            default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as written
        }
    }

    int ReadHex(int digits, int at)
    {
        if (pos + digits > text.Length || !text.AsSpan(pos, digits).ToString().All(char.IsAsciiHexDigit))
            throw new SyntaxError(at, $"a \\{text[at + 1]} escape needs {digits} hex digits");
        var value = int.Parse(text.AsSpan(pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        pos += digits;
        return value;
    }

    static void AppendCodePoint(StringBuilder sb, int value, int at)
    {
        if (value is < 0 or > 0x10FFFF || (value is >= 0xD800 and <= 0xDFFF))
            throw new SyntaxError(at, $"\\U{value:X8} is not a Unicode scalar value");
        sb.Append(char.ConvertFromUtf32(value));
    }

    JsonNode ReadNumber(bool negative)
    {
        int at = pos;
        if (Peek() == '0' && PeekAt(1) is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            int radix = char.ToLowerInvariant(PeekAt(1)) switch { 'x' => 16, 'o' => 8, _ => 2 };
            pos += 2;
            var value = BigInteger.Zero;
            int digits = 0;
            for (; pos < text.Length; pos++)
            {
                char c = text[pos];
                if (c == '_') continue;
                int digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
                if (digit >= radix) break;
                value = value * radix + digit;
                digits++;
            }
            if (digits == 0) throw new SyntaxError(at, "a number prefix without digits");
            return Integer(negative ? -value : value);
        }
        int start = pos;
        bool isFloat = false;
        while (char.IsAsciiDigit(Peek()) || Peek() == '_') pos++;
        if (Peek() == '.') { isFloat = true; pos++; while (char.IsAsciiDigit(Peek()) || Peek() == '_') pos++; }
        if (Peek() is 'e' or 'E' && (char.IsAsciiDigit(PeekAt(1)) || (PeekAt(1) is '+' or '-' && char.IsAsciiDigit(PeekAt(2)))))
        {
            isFloat = true;
            pos += 2;
            while (char.IsAsciiDigit(Peek()) || Peek() == '_') pos++;
        }
        if (Peek() is 'j' or 'J') throw new SyntaxError(at, "a complex number is not a JSON value");
        if (IsIdentifierPart(Peek())) throw new SyntaxError(at, $"'{text[start..(pos + 1)]}' is not a number");
        var digitsText = text[start..pos].Replace("_", "");
        if (!isFloat) return Integer(BigInteger.Parse(digitsText, CultureInfo.InvariantCulture) * (negative ? -1 : 1));
        var d = double.Parse(digitsText, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(d)) throw new SyntaxError(at, $"{digitsText} is too large for a float");
        return JsonValue.Create(negative ? -d : d);
    }

    static JsonNode Integer(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? JsonValue.Create((long)value) : JsonNode.Parse(value.ToString(CultureInfo.InvariantCulture))!;

    string ReadIdentifier(string what)
    {
        int at = pos;
        if (!IsIdentifierStart(Peek()))
            throw new SyntaxError(at, at >= text.Length ? "the output ends inside the call list (truncated)" : $"expected {what}, found '{Peek()}'");
        while (IsIdentifierPart(Peek())) pos++;
        return text[at..pos];
    }

    static bool IsIdentifierStart(char c) => c == '_' || char.IsLetter(c);
    static bool IsIdentifierPart(char c) => c == '_' || char.IsLetterOrDigit(c);

    void SkipWhitespace() => pos = JsonSpan.SkipWhitespace(text, pos);
    char Peek() => pos < text.Length ? text[pos] : '\0';
    char PeekAt(int offset) => pos + offset < text.Length ? text[pos + offset] : '\0';

    bool TryTake(char c)
    {
        if (Peek() != c) return false;
        pos++;
        return true;
    }

    void Expect(char c, string? what = null)
    {
        if (TryTake(c)) return;
        if (pos >= text.Length) throw new SyntaxError(pos, "the output ends inside the call list (truncated)");
        throw new SyntaxError(pos, $"expected {what ?? $"'{c}'"}, found '{Peek()}'");
    }
}
