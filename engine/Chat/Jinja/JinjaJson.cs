using System.Globalization;
using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// The <c>tojson</c> filter as transformers overrides it (<c>chat_template_utils.py</c>):
/// <c>json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)</c>,
/// not jinja2's HTML-safe one. Python's separators default to <c>(", ", ": ")</c>, or
/// <c>(",", ": ")</c> when an indent is given.
/// </summary>
public static class JinjaJson
{
    public static string Dumps(object? value, string? indent, string? itemSeparator, string? keySeparator, bool sortKeys, int line, bool ensureAscii = false)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ", sortKeys, 0, line);
        return ensureAscii ? EscapeNonAscii(sb.ToString()) : sb.ToString();
    }

    /// <summary><c>ensure_ascii=True</c>: every non-ASCII UTF-16 unit as <c>\uXXXX</c> (only strings can hold any).</summary>
    static string EscapeNonAscii(string json)
    {
        var sb = new StringBuilder(json.Length);
        foreach (var c in json)
        {
            if (c < 0x80) sb.Append(c);
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    static void Write(StringBuilder sb, object? v, string? indent, string items, string keys, bool sort, int depth, int line)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyValue.FloatRepr(d));
                break;
            case string s: PythonJson.WriteString(sb, s); break;
            case Dictionary<string, object?> dict:
            {
                if (dict.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                IEnumerable<KeyValuePair<string, object?>> pairs = sort ? dict.OrderBy(kv => kv.Key, StringComparer.Ordinal) : dict;
                int i = 0;
                foreach (var (k, value) in pairs)
                {
                    if (i++ > 0) sb.Append(items);
                    NewLine(sb, indent, depth + 1);
                    PythonJson.WriteString(sb, k);
                    sb.Append(keys);
                    Write(sb, value, indent, items, keys, sort, depth + 1, line);
                }
                NewLine(sb, indent, depth);
                sb.Append('}');
                break;
            }
            case IReadOnlyList<object?> list:
            {
                if (list.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(items);
                    NewLine(sb, indent, depth + 1);
                    Write(sb, list[i], indent, items, keys, sort, depth + 1, line);
                }
                NewLine(sb, indent, depth);
                sb.Append(']');
                break;
            }
            default:
                throw new JinjaException($"line {line}: tojson: Object of type {PyValue.TypeName(v)} is not JSON serializable.");
        }
    }

    static void NewLine(StringBuilder sb, string? indent, int depth)
    {
        if (indent is null) return;
        sb.Append('\n');
        for (int i = 0; i < depth; i++) sb.Append(indent);
    }
}
