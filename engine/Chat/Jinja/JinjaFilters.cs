using System.Globalization;
using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>jinja2's built-in filters (<c>filters.py</c>) that chat templates use, with their defaults.</summary>
public static class JinjaFilters
{
    static object? Arg(List<object?> a, Dictionary<string, object?> k, int i, string name, object? fallback = null) =>
        i < a.Count ? a[i] : k.TryGetValue(name, out var v) ? v : fallback;

    public static object? Apply(JinjaRenderer r, string name, object? v, List<object?> a, Dictionary<string, object?> k, int line)
    {
        switch (name)
        {
            case "default" or "d":
            {
                bool boolean = PyValue.Truthy(Arg(a, k, 1, "boolean", false));
                bool useDefault = v is JinjaUndefined || (boolean && !PyValue.Truthy(v));
                return useDefault ? Arg(a, k, 0, "default_value", "") : v;
            }
            case "length" or "count":
                return v switch
                {
                    string s => (long)s.Length,
                    Dictionary<string, object?> d => (long)d.Count,
                    JinjaUndefined => 0L,
                    _ => (long)PyValue.Iterate(v, line).Count,
                };
            case "string": return PyValue.Str(v);
            case "safe": return v;
            case "trim": return JinjaMethods.Strip(PyValue.Str(v), Arg(a, k, 0, "chars") as string, true, true);
            case "upper": return PyValue.Str(v).ToUpperInvariant();
            case "lower": return PyValue.Str(v).ToLowerInvariant();
            case "capitalize": { var s = PyValue.Str(v); return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant(); }
            case "title": return Title(PyValue.Str(v));
            case "replace":
            {
                var s = PyValue.Str(v);
                var old = PyValue.Str(Arg(a, k, 0, "old"));
                var replacement = PyValue.Str(Arg(a, k, 1, "new"));
                var count = Arg(a, k, 2, "count");
                return JinjaMethods.Bind(s, "replace", line)!.Invoke(count is null ? [old, replacement] : [old, replacement, count], new());
            }
            case "join":
            {
                var separator = PyValue.Str(Arg(a, k, 0, "d", ""));
                var attribute = Arg(a, k, 1, "attribute") as string;
                var items = PyValue.Iterate(v, line).Select(x => attribute is null ? x : JinjaAccess.GetItem(x, attribute, line));
                return string.Join(separator, items.Select(PyValue.Str));
            }
            case "first": { var l = PyValue.Iterate(v, line); return l.Count > 0 ? l[0] : new JinjaUndefined("first"); }
            case "last": { var l = PyValue.Iterate(v, line); return l.Count > 0 ? l[^1] : new JinjaUndefined("last"); }
            case "reverse":
                return v is string rs ? new string(rs.Reverse().ToArray()) : PyValue.Iterate(v, line).Reverse().ToList();
            case "list": return PyValue.Iterate(v, line).ToList();
            case "items":
                return v switch
                {
                    JinjaUndefined => new List<object?>(),
                    Dictionary<string, object?> d => d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList(),
                    _ => throw new JinjaException($"line {line}: the items filter needs a mapping, got {PyValue.TypeName(v)}."),
                };
            case "dictsort":
            {
                if (v is not Dictionary<string, object?> d) throw new JinjaException($"line {line}: dictsort needs a mapping, got {PyValue.TypeName(v)}.");
                bool caseSensitive = PyValue.Truthy(Arg(a, k, 0, "case_sensitive", false));
                bool byValue = PyValue.Str(Arg(a, k, 1, "by", "key")) == "value";
                bool reverse = PyValue.Truthy(Arg(a, k, 2, "reverse", false));
                var sorted = d.Select(kv => new object?[] { kv.Key, kv.Value }).ToList();
                sorted.Sort((x, y) => PyValue.Compare(SortKey(x[byValue ? 1 : 0], caseSensitive), SortKey(y[byValue ? 1 : 0], caseSensitive), line));
                if (reverse) sorted.Reverse();
                return sorted.Cast<object?>().ToList();
            }
            case "sort":
            {
                bool reverse = PyValue.Truthy(Arg(a, k, 0, "reverse", false));
                bool caseSensitive = PyValue.Truthy(Arg(a, k, 1, "case_sensitive", false));
                var attribute = Arg(a, k, 2, "attribute") as string;
                var list = PyValue.Iterate(v, line).ToList();
                object? Key(object? x) => SortKey(attribute is null ? x : JinjaAccess.GetItem(x, attribute, line), caseSensitive);
                var sorted = list.Select((x, i) => (x, i)).ToList();
                sorted.Sort((p, q) => { int c = PyValue.Compare(Key(p.x), Key(q.x), line); return c != 0 ? (reverse ? -c : c) : p.i.CompareTo(q.i); });
                return sorted.Select(p => p.x).ToList();
            }
            case "unique":
            {
                bool caseSensitive = PyValue.Truthy(Arg(a, k, 0, "case_sensitive", false));
                var attribute = Arg(a, k, 1, "attribute") as string;
                var seen = new List<object?>();
                var result = new List<object?>();
                foreach (var x in PyValue.Iterate(v, line))
                {
                    var key = SortKey(attribute is null ? x : JinjaAccess.GetItem(x, attribute, line), caseSensitive);
                    if (seen.Any(s => PyValue.Equal(s, key))) continue;
                    seen.Add(key);
                    result.Add(x);
                }
                return result;
            }
            case "map":
            {
                var items = PyValue.Iterate(v, line);
                if (k.TryGetValue("attribute", out var attr))
                {
                    var path = PyValue.Str(attr);
                    return items.Select(x =>
                    {
                        var got = JinjaAccess.GetItem(x, path, line);
                        return got is JinjaUndefined && k.TryGetValue("default", out var dflt) ? dflt : got;
                    }).ToList();
                }
                var filter = PyValue.Str(a.FirstOrDefault());
                var rest = a.Skip(1).ToList();
                return items.Select(x => r.CallFilter(filter, x, rest, line)).ToList();
            }
            case "select" or "reject":
            {
                bool keep = name == "select";
                var test = a.Count > 0 ? PyValue.Str(a[0]) : null;
                var rest = a.Skip(1).ToList();
                return PyValue.Iterate(v, line).Where(x => (test is null ? PyValue.Truthy(x) : r.CallTest(test, x, rest, line)) == keep).ToList();
            }
            case "selectattr" or "rejectattr":
            {
                bool keep = name == "selectattr";
                var attribute = PyValue.Str(a.FirstOrDefault());
                var test = a.Count > 1 ? PyValue.Str(a[1]) : null;
                var rest = a.Skip(2).ToList();
                return PyValue.Iterate(v, line).Where(x =>
                {
                    var value = JinjaAccess.GetItem(x, attribute, line);
                    return (test is null ? PyValue.Truthy(value) : r.CallTest(test, value, rest, line)) == keep;
                }).ToList();
            }
            case "attr": return JinjaAccess.GetAttr(v, PyValue.Str(a.FirstOrDefault()), line);
            case "int":
            {
                var fallback = Arg(a, k, 0, "default", 0L);
                return v switch
                {
                    long or bool => PyValue.ToLong(v, line),
                    double d => (long)Math.Truncate(d),
                    string s when long.TryParse(s.Trim().Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => (long)Math.Truncate(d),
                    _ => fallback,
                };
            }
            case "float":
            {
                var fallback = Arg(a, k, 0, "default", 0.0);
                return v switch
                {
                    long l => (double)l,
                    double d => d,
                    bool b => b ? 1.0 : 0.0,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => fallback,
                };
            }
            case "abs":
                return v switch
                {
                    long l => (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw new JinjaException($"line {line}: bad operand type for abs(): '{PyValue.TypeName(v)}'."),
                };
            case "round":
            {
                long precision = PyValue.ToLong(Arg(a, k, 0, "precision", 0L), line);
                var method = PyValue.Str(Arg(a, k, 1, "method", "common"));
                double x = v is long l ? l : v is double d ? d : throw new JinjaException($"line {line}: round needs a number.");
                double f = Math.Pow(10, precision);
                return method switch
                {
                    "ceil" => Math.Ceiling(x * f) / f,
                    "floor" => Math.Floor(x * f) / f,
                    _ => Math.Round(x * f, MidpointRounding.AwayFromZero) / f,
                };
            }
            case "sum":
            {
                var attribute = Arg(a, k, 0, "attribute") as string;
                object? total = Arg(a, k, 1, "start", 0L);
                foreach (var x in PyValue.Iterate(v, line)) total = PyArithmetic.Apply("+", total, attribute is null ? x : JinjaAccess.GetItem(x, attribute, line), line);
                return total;
            }
            case "min" or "max":
            {
                var list = PyValue.Iterate(v, line);
                if (list.Count == 0) return new JinjaUndefined(name);
                var best = list[0];
                foreach (var x in list.Skip(1))
                {
                    int c = PyValue.Compare(SortKey(x, false), SortKey(best, false), line);
                    if (name == "min" ? c < 0 : c > 0) best = x;
                }
                return best;
            }
            case "indent": return Indent(PyValue.Str(v), Arg(a, k, 0, "width", 4L), PyValue.Truthy(Arg(a, k, 1, "first", false)), PyValue.Truthy(Arg(a, k, 2, "blank", false)));
            case "tojson":
            {
                // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
                var indent = Arg(a, k, 1, "indent");
                var separators = Arg(a, k, 2, "separators");
                var sortKeys = PyValue.Truthy(Arg(a, k, 3, "sort_keys", false));
                string? indentText = indent switch { null => null, long n => new string(' ', (int)n), string s => s, _ => null };
                string? items = null, keys = null;
                if (separators is not null)
                {
                    var parts = PyValue.Iterate(separators, line);
                    items = PyValue.Str(parts[0]);
                    keys = PyValue.Str(parts[1]);
                }
                return JinjaJson.Dumps(v, indentText, items, keys, sortKeys, line, PyValue.Truthy(Arg(a, k, 0, "ensure_ascii", false)));
            }
            case "escape" or "e" or "forceescape":
                return PyValue.Str(v).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
            case "format": return PercentFormat(PyValue.Str(v), a, line);
            case "wordcount": return (long)PyValue.Str(v).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "batch":
            {
                long size = PyValue.ToLong(Arg(a, k, 0, "linecount"), line);
                return PyValue.Iterate(v, line).Chunk((int)size).Select(c => (object?)c.ToList()).ToList();
            }
            default:
                throw new JinjaException($"line {line}: unknown filter '{name}'.");
        }
    }

    static object? SortKey(object? v, bool caseSensitive) => !caseSensitive && v is string s ? s.ToLowerInvariant() : v;

    /// <summary>jinja2's <c>title</c> filter: upper-cases the first letter of each word split at whitespace, '-', '(', '{', '[', '&lt;'.</summary>
    static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (var c in s)
        {
            bool separator = char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            sb.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }
        return sb.ToString();
    }

    /// <summary>jinja2's <c>indent</c>: every line but the first (unless <paramref name="first"/>), blank lines only if <paramref name="blank"/>.</summary>
    static string Indent(string s, object? width, bool first, bool blank)
    {
        string indention = width is string w ? w : new string(' ', (int)PyValue.ToLong(width, 0));
        s += "\n"; // jinja2's own quirk so that splitlines keeps a trailing newline
        var lines = JinjaMethods.SplitLines(s);
        string rv;
        if (blank) rv = string.Join("\n" + indention, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
        }
        return first ? indention + rv : rv;
    }

    static string PercentFormat(string format, List<object?> args, int line)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char d = format[++i];
            if (d == '%') { sb.Append('%'); continue; }
            if (next >= args.Count) throw new JinjaException($"line {line}: not enough arguments for the format string.");
            var arg = args[next++];
            sb.Append(d switch { 'd' or 'i' => PyValue.ToLong(arg, line).ToString(CultureInfo.InvariantCulture), 'r' => PyValue.Repr(arg), _ => PyValue.Str(arg) });
        }
        return sb.ToString();
    }
}
