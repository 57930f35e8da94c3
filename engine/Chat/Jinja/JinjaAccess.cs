namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// <c>x.name</c> and <c>x[key]</c> as jinja2's sandbox resolves them: <c>.name</c> tries the Python
/// attribute (a str/dict/list method) before the dict key, <c>[key]</c> the key before the attribute;
/// a missing key or index is undefined, touching anything on an undefined value is an error.
/// </summary>
public static class JinjaAccess
{
    public static object? GetAttr(object? target, string name, int line)
    {
        switch (target)
        {
            case JinjaUndefined u:
                throw new JinjaException($"line {line}: '{u.Name}' is undefined (reading its attribute '{name}').");
            case Dictionary<string, object?> d:
                if (JinjaMethods.Bind(d, name, line) is { } dm) return dm;
                return d.TryGetValue(name, out var v) ? v : new JinjaUndefined(name);
            case JinjaNamespace ns:
                return ns.Values.TryGetValue(name, out var nv) ? nv : new JinjaUndefined(name);
            case JinjaLoop loop:
                return loop.Get(name, line);
            default:
                return (object?)JinjaMethods.Bind(target, name, line) ?? new JinjaUndefined(name);
        }
    }

    public static object? GetItem(object? target, object? key, int line)
    {
        switch (target)
        {
            case JinjaUndefined u:
                throw new JinjaException($"line {line}: '{u.Name}' is undefined (reading its item {PyValue.Repr(key)}).");
            case Dictionary<string, object?> d:
                if (key is string k && d.TryGetValue(k, out var v)) return v;
                return key is string m && JinjaMethods.Bind(d, m, line) is { } dm ? dm : new JinjaUndefined(PyValue.Str(key));
            case List<object?> or object?[] or string when key is long or bool:
            {
                var items = target as IReadOnlyList<object?>;
                int count = items?.Count ?? ((string)target).Length;
                long i = PyValue.ToLong(key, line);
                if (i < 0) i += count;
                if (i < 0 || i >= count) return new JinjaUndefined($"[{key}]");
                return items is not null ? items[(int)i] : ((string)target)[(int)i].ToString();
            }
            case JinjaNamespace or JinjaLoop when key is string name:
                return GetAttr(target, name, line);
            default:
                return key is string attr ? GetAttr(target, attr, line) : new JinjaUndefined(PyValue.Str(key));
        }
    }

    /// <summary>Python's slice <c>x[start:stop:step]</c> (negative indices and steps, clamped bounds).</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step, int line)
    {
        if (target is JinjaUndefined u) throw new JinjaException($"line {line}: '{u.Name}' is undefined (slicing it).");
        int count = target switch
        {
            string s => s.Length,
            IReadOnlyList<object?> l => l.Count,
            _ => throw new JinjaException($"line {line}: '{PyValue.TypeName(target)}' object is not subscriptable."),
        };
        long st = step is null ? 1 : PyValue.ToLong(step, line);
        if (st == 0) throw new JinjaException($"line {line}: slice step cannot be zero.");
        long lo, hi;
        if (st > 0)
        {
            lo = start is null ? 0 : Clamp(PyValue.ToLong(start, line), count, 0, count);
            hi = stop is null ? count : Clamp(PyValue.ToLong(stop, line), count, 0, count);
        }
        else
        {
            lo = start is null ? count - 1 : Clamp(PyValue.ToLong(start, line), count, -1, count - 1);
            hi = stop is null ? -1 : Clamp(PyValue.ToLong(stop, line), count, -1, count - 1);
        }
        var indices = new List<int>();
        if (st > 0) for (long i = lo; i < hi; i += st) indices.Add((int)i);
        else for (long i = lo; i > hi; i += st) indices.Add((int)i);
        return target switch
        {
            string s => string.Concat(indices.Select(i => s[i])),
            object?[] t => indices.Select(i => t[i]).ToArray(),
            IReadOnlyList<object?> l => indices.Select(i => l[i]).ToList(),
            _ => null,
        };
    }

    static long Clamp(long index, int count, long min, long max)
    {
        if (index < 0) index += count;
        return Math.Min(Math.Max(index, min), max);
    }
}
