namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>jinja2's tests (<c>x is name</c>, <c>tests.py</c>) with Python's type rules: a bool is a number, a str or dict is a sequence.</summary>
public static class JinjaTestFunctions
{
    public static bool Apply(JinjaRenderer r, string name, object? v, List<object?> a, int line)
    {
        object? arg = a.FirstOrDefault();
        return name switch
        {
            "defined" => v is not JinjaUndefined,
            "undefined" => v is JinjaUndefined,
            "none" => v is null,
            "boolean" => v is bool,
            "true" => v is true,
            "false" => v is false,
            "integer" => v is long,
            "float" => v is double,
            "number" => v is long or double or bool,
            "string" => v is string,
            "mapping" => v is Dictionary<string, object?>,
            "iterable" => v is string or List<object?> or object?[] or Dictionary<string, object?>,
            "sequence" => v is string or List<object?> or object?[] or Dictionary<string, object?>,
            "callable" => v is JinjaCallable,
            "odd" => PyValue.ToLong(v, line) % 2 != 0,
            "even" => PyValue.ToLong(v, line) % 2 == 0,
            "divisibleby" => PyValue.ToLong(v, line) % PyValue.ToLong(arg, line) == 0,
            "lower" => v is string s && s == s.ToLowerInvariant(),
            "upper" => v is string u && u == u.ToUpperInvariant(),
            "eq" or "equalto" or "==" => PyValue.Equal(v, arg),
            "ne" or "!=" => !PyValue.Equal(v, arg),
            "lt" or "lessthan" or "<" => PyValue.Compare(v, arg, line) < 0,
            "le" or "<=" => PyValue.Compare(v, arg, line) <= 0,
            "gt" or "greaterthan" or ">" => PyValue.Compare(v, arg, line) > 0,
            "ge" or ">=" => PyValue.Compare(v, arg, line) >= 0,
            "in" => PyValue.Contains(arg, v, line),
            "sameas" => ReferenceEquals(v, arg) || (v is null && arg is null) || (v is bool b && arg is bool c && b == c),
            "escaped" => false,
            _ => throw new JinjaException($"line {line}: unknown test '{name}'."),
        };
    }
}
