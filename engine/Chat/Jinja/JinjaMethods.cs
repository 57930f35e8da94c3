using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// The Python methods chat templates call on values (<c>content.strip()</c>, <c>message.get('x')</c>,
/// <c>tool.items()</c>…), with Python's semantics. Mutating methods (<c>append</c>, <c>pop</c>,
/// <c>update</c>…) are refused as jinja2's ImmutableSandboxedEnvironment refuses them.
/// </summary>
public static class JinjaMethods
{
    static readonly HashSet<string> Mutating = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem", "add", "discard"];

    public static JinjaCallable? Bind(object? target, string name, int line)
    {
        if ((target is List<object?> or Dictionary<string, object?>) && Mutating.Contains(name))
            return new JinjaCallable(name, (_, _) => throw new JinjaException(
                $"line {line}: the template calls '{name}' on a {PyValue.TypeName(target)}; a sandboxed chat template may not modify values (use a namespace() or build a new list with '+')."));
        return target switch
        {
            string s => StringMethod(s, name, line),
            Dictionary<string, object?> d => DictMethod(d, name),
            List<object?> or object?[] => ListMethod((IReadOnlyList<object?>)target, name, line),
            _ => null,
        };
    }

    static object? Arg(List<object?> args, Dictionary<string, object?> kwargs, int i, string name, object? fallback = null) =>
        i < args.Count ? args[i] : kwargs.TryGetValue(name, out var v) ? v : fallback;

    static JinjaCallable? DictMethod(Dictionary<string, object?> d, string name) => name switch
    {
        "items" => new(name, (_, _) => d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList()),
        "keys" => new(name, (_, _) => d.Keys.Cast<object?>().ToList()),
        "values" => new(name, (_, _) => d.Values.ToList()),
        "get" => new(name, (a, k) => Arg(a, k, 0, "key") is string key && d.TryGetValue(key, out var v) ? v : Arg(a, k, 1, "default")),
        "copy" => new(name, (_, _) => new Dictionary<string, object?>(d)),
        _ => null,
    };

    static JinjaCallable? ListMethod(IReadOnlyList<object?> l, string name, int line) => name switch
    {
        "index" => new(name, (a, _) =>
        {
            for (int i = 0; i < l.Count; i++) if (PyValue.Equal(l[i], a.FirstOrDefault())) return (long)i;
            throw new JinjaException($"line {line}: {PyValue.Repr(a.FirstOrDefault())} is not in list.");
        }),
        "count" => new(name, (a, _) => (long)l.Count(x => PyValue.Equal(x, a.FirstOrDefault()))),
        "copy" => new(name, (_, _) => l.ToList()),
        _ => null,
    };

    static string Need(object? v, string method, int line) => v as string
        ?? throw new JinjaException($"line {line}: str.{method}() needs a string argument, got {PyValue.TypeName(v)}.");

    static JinjaCallable? StringMethod(string s, string name, int line) => name switch
    {
        "strip" => new(name, (a, k) => Strip(s, Arg(a, k, 0, "chars") as string, true, true)),
        "lstrip" => new(name, (a, k) => Strip(s, Arg(a, k, 0, "chars") as string, true, false)),
        "rstrip" => new(name, (a, k) => Strip(s, Arg(a, k, 0, "chars") as string, false, true)),
        "split" => new(name, (a, k) => Split(s, Arg(a, k, 0, "sep") as string, Arg(a, k, 1, "maxsplit") is long m ? m : -1, line)),
        "rsplit" => new(name, (a, k) => RSplit(s, Arg(a, k, 0, "sep") as string, Arg(a, k, 1, "maxsplit") is long m ? m : -1, line)),
        "splitlines" => new(name, (_, _) => SplitLines(s).Cast<object?>().ToList()),
        "startswith" => new(name, (a, _) => Affix(s, a.FirstOrDefault(), true, line)),
        "endswith" => new(name, (a, _) => Affix(s, a.FirstOrDefault(), false, line)),
        "lower" => new(name, (_, _) => s.ToLowerInvariant()),
        "upper" => new(name, (_, _) => s.ToUpperInvariant()),
        "title" => new(name, (_, _) => Title(s)),
        "capitalize" => new(name, (_, _) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant()),
        "replace" => new(name, (a, _) => Replace(s, Need(a.ElementAtOrDefault(0), name, line), Need(a.ElementAtOrDefault(1), name, line), a.Count > 2 ? PyValue.ToLong(a[2], line) : -1)),
        "find" => new(name, (a, _) => (long)s.IndexOf(Need(a.FirstOrDefault(), name, line), StringComparison.Ordinal)),
        "rfind" => new(name, (a, _) => (long)s.LastIndexOf(Need(a.FirstOrDefault(), name, line), StringComparison.Ordinal)),
        "count" => new(name, (a, _) => (long)CountOf(s, Need(a.FirstOrDefault(), name, line))),
        "join" => new(name, (a, _) => string.Join(s, PyValue.Iterate(a.FirstOrDefault(), line).Select(x => x as string
            ?? throw new JinjaException($"line {line}: str.join() expects strings, got {PyValue.TypeName(x)}.")))),
        "isdigit" => new(name, (_, _) => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => new(name, (_, _) => s.Length > 0 && s.All(char.IsLetter)),
        "isspace" => new(name, (_, _) => s.Length > 0 && s.All(char.IsWhiteSpace)),
        "islower" => new(name, (_, _) => s.Any(char.IsLetter) && s.Where(char.IsLetter).All(char.IsLower)),
        "isupper" => new(name, (_, _) => s.Any(char.IsLetter) && s.Where(char.IsLetter).All(char.IsUpper)),
        "format" => new(name, (a, k) => Format(s, a, k, line)),
        _ => null,
    };

    /// <summary>Python's <c>str.splitlines()</c>: breaks at \n, \r\n and \r, no empty piece after a final break.</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int from = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('\n' or '\r')) continue;
            lines.Add(s[from..i]);
            if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
            from = i + 1;
        }
        if (from < s.Length) lines.Add(s[from..]);
        return lines;
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        bool Drop(char c) => chars is null ? char.IsWhiteSpace(c) : chars.Contains(c);
        if (left) while (start < end && Drop(s[start])) start++;
        if (right) while (end > start && Drop(s[end - 1])) end--;
        return s[start..end];
    }

    static List<object?> Split(string s, string? sep, long maxsplit, int line)
    {
        var result = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxsplit >= 0 && result.Count == maxsplit) { result.Add(s[i..].TrimEnd()); break; }
                int j = i;
                while (j < s.Length && !char.IsWhiteSpace(s[j])) j++;
                result.Add(s[i..j]);
                i = j;
            }
            return result;
        }
        if (sep.Length == 0) throw new JinjaException($"line {line}: str.split(): empty separator.");
        int from = 0;
        while (maxsplit < 0 || result.Count < maxsplit)
        {
            int at = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (at < 0) break;
            result.Add(s[from..at]);
            from = at + sep.Length;
        }
        result.Add(s[from..]);
        return result;
    }

    static List<object?> RSplit(string s, string? sep, long maxsplit, int line)
    {
        if (maxsplit < 0 || sep is null) return Split(s, sep, maxsplit, line);
        if (sep.Length == 0) throw new JinjaException($"line {line}: str.rsplit(): empty separator.");
        var result = new List<object?>();
        int end = s.Length;
        while (result.Count < maxsplit)
        {
            int at = end == 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (at < 0 || at + sep.Length > end) break;
            result.Insert(0, s[(at + sep.Length)..end]);
            end = at;
        }
        result.Insert(0, s[..end]);
        return result;
    }

    static bool Affix(string s, object? arg, bool prefix, int line) => arg switch
    {
        string p => prefix ? s.StartsWith(p, StringComparison.Ordinal) : s.EndsWith(p, StringComparison.Ordinal),
        object?[] or List<object?> => PyValue.Iterate(arg, line).Any(x => Affix(s, x, prefix, line)),
        _ => throw new JinjaException($"line {line}: str.{(prefix ? "startswith" : "endswith")}() needs a string or a tuple of strings, got {PyValue.TypeName(arg)}."),
    };

    /// <summary>Python's <c>str.title()</c>: a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (var c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, from, at - from).Append(replacement);
            from = at + old.Length;
        }
        return sb.Append(s, from, s.Length - from).ToString();
    }

    static string InsertEverywhere(string s, string r) => r + string.Concat(s.Select(c => c + r));

    static int CountOf(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary><c>str.format</c> with <c>{}</c>, <c>{0}</c> and <c>{name}</c> fields (no format specs).</summary>
    static string Format(string s, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            int close = s.IndexOf('}', i);
            if (close < 0) throw new JinjaException($"line {line}: str.format(): single '{{' in the format string.");
            var field = s[(i + 1)..close];
            object? value = field.Length == 0 ? args.ElementAtOrDefault(auto++)
                : int.TryParse(field, out var index) ? args.ElementAtOrDefault(index)
                : kwargs.GetValueOrDefault(field);
            sb.Append(PyValue.Str(value));
            i = close;
        }
        return sb.ToString();
    }
}
