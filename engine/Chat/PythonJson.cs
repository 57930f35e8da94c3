using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat;

/// <summary>
/// JSON text as Python's <c>json.dumps(x, ensure_ascii=False)</c> writes it (separators ", " and ": "),
/// which is what the Jinja <c>tojson</c> filter in HF chat templates produces; the rendered prompt
/// must match the one the model was trained on byte for byte.
/// </summary>
public static class PythonJson
{
    public static string Dumps(JsonNode? node, int? indent = null)
    {
        var sb = new StringBuilder();
        Write(sb, node, indent, 0);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, JsonNode? node, int? indent, int depth)
    {
        switch (node)
        {
            case null: sb.Append("null"); break;
            case JsonObject o:
                if (o.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                int i = 0;
                foreach (var (k, v) in o)
                {
                    if (i++ > 0) sb.Append(indent is null ? ", " : ",");
                    NewLine(sb, indent, depth + 1);
                    WriteString(sb, k);
                    sb.Append(": ");
                    Write(sb, v, indent, depth + 1);
                }
                NewLine(sb, indent, depth);
                sb.Append('}');
                break;
            case JsonArray a:
                if (a.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int j = 0; j < a.Count; j++)
                {
                    if (j > 0) sb.Append(indent is null ? ", " : ",");
                    NewLine(sb, indent, depth + 1);
                    Write(sb, a[j], indent, depth + 1);
                }
                NewLine(sb, indent, depth);
                sb.Append(']');
                break;
            case JsonValue v:
                if (v.TryGetValue<string>(out var s)) WriteString(sb, s);
                else if (v.TryGetValue<bool>(out var b)) sb.Append(b ? "true" : "false");
                else if (v.TryGetValue<long>(out var l)) sb.Append(l.ToString(CultureInfo.InvariantCulture));
                else if (v.TryGetValue<double>(out var d)) sb.Append(FormatDouble(d));
                else sb.Append(v.ToJsonString());
                break;
        }
    }

    static void NewLine(StringBuilder sb, int? indent, int depth)
    {
        if (indent is int n) sb.Append('\n').Append(' ', n * depth);
    }

    static string FormatDouble(double d)
    {
        if (d == Math.Floor(d) && Math.Abs(d) < 1e16) return d.ToString("0.0", CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>A JSON string as Python's json.dumps(ensure_ascii=False) writes it (also the Jinja <c>tojson</c> filter's).</summary>
    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
