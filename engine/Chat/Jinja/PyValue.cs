using System.Globalization;
using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>jinja2's default <c>Undefined</c>: prints as "", is falsy, iterates as empty; using its attributes is an error.</summary>
public sealed class JinjaUndefined(string name)
{
    public string Name { get; } = name;
}

/// <summary><c>namespace(...)</c>: the one mutable object a sandboxed template may assign attributes on.</summary>
public sealed class JinjaNamespace
{
    public Dictionary<string, object?> Values { get; } = new();
}

/// <summary>A callable value: a global function, a macro or a bound method.</summary>
public sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    public string Name { get; } = name;
    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => invoke(args, kwargs);
}

/// <summary>
/// Python's value semantics for the types a chat template sees: None (null), bool, int (long),
/// float (double), str, list (<see cref="List{T}"/>), tuple (object?[]) and dict
/// (<see cref="Dictionary{TKey,TValue}"/> with string keys, insertion-ordered as Python's dict).
/// </summary>
public static class PyValue
{
    public static bool IsUndefined(object? v) => v is JinjaUndefined;

    public static bool Truthy(object? v) => v switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    /// <summary><c>str(v)</c> as Jinja prints it: None is "None", booleans "True"/"False", containers by repr.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        JinjaUndefined => "",
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        WriteRepr(sb, v);
        return sb.ToString();
    }

    static void WriteRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("None"); break;
            case JinjaUndefined: break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: WriteStringRepr(sb, s); break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WriteRepr(sb, list[i]);
                }
                sb.Append(']');
                break;
            case object?[] tuple:
                sb.Append('(');
                for (int i = 0; i < tuple.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WriteRepr(sb, tuple[i]);
                }
                if (tuple.Length == 1) sb.Append(',');
                sb.Append(')');
                break;
            case Dictionary<string, object?> dict:
                sb.Append('{');
                int k = 0;
                foreach (var (key, value) in dict)
                {
                    if (k++ > 0) sb.Append(", ");
                    WriteStringRepr(sb, key);
                    sb.Append(": ");
                    WriteRepr(sb, value);
                }
                sb.Append('}');
                break;
            case JinjaNamespace: sb.Append("<Namespace>"); break;
            case JinjaCallable c: sb.Append("<function ").Append(c.Name).Append('>'); break;
            default: sb.Append(v); break;
        }
    }

    /// <summary>Python's <c>repr(str)</c>: single quotes unless the text has ' and no ".</summary>
    static void WriteStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest round-trip digits, positional for 1e-4 ≤ |x| &lt; 1e16,
    /// else scientific with a two-digit exponent (<c>1e+16</c>, <c>1e-05</c>); always a '.' or 'e'.
    /// </summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest round-trip digits from "R", then re-layout as Python does.
        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        bool negative = shortest.StartsWith('-');
        if (negative) shortest = shortest[1..];
        string digits;
        int exponent; // value = 0.d1d2... × 10^exponent … we use: d1.d2d3 × 10^exp10
        int ePos = shortest.IndexOfAny(['E', 'e']);
        string mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        int exp10 = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - (intPart + fracPart).TrimStart('0').Length;
        exponent = intPart.Length - 1 - leadingZeros + exp10; // position of the first significant digit
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (exponent >= 16 || exponent < -4)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent < 0)
        {
            sb.Append("0.").Append('0', -exponent - 1).Append(digits);
        }
        else if (digits.Length <= exponent + 1)
        {
            sb.Append(digits).Append('0', exponent + 1 - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
        }
        return sb.ToString();
    }

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        JinjaUndefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        Dictionary<string, object?> => "dict",
        JinjaNamespace => "Namespace",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    static double ToDouble(object? v) => v switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => double.NaN };

    /// <summary>Python's <c>==</c>: numbers by value across int/float/bool, containers element-wise.</summary>
    public static bool Equal(object? a, object? b)
    {
        if (a is JinjaUndefined || b is JinjaUndefined) return a is JinjaUndefined && b is JinjaUndefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        switch (a)
        {
            case string s: return b is string t && s == t;
            case List<object?> l:
                return b is List<object?> m && l.Count == m.Count && l.Zip(m).All(p => Equal(p.First, p.Second));
            case object?[] x:
                return b is object?[] y && x.Length == y.Length && x.Zip(y).All(p => Equal(p.First, p.Second));
            case Dictionary<string, object?> d:
                return b is Dictionary<string, object?> e && d.Count == e.Count && d.All(kv => e.TryGetValue(kv.Key, out var w) && Equal(kv.Value, w));
            default: return ReferenceEquals(a, b) || a.Equals(b);
        }
    }

    /// <summary>Python's ordering for numbers, strings (by code point) and sequences; other pairs are a TypeError.</summary>
    public static int Compare(object? a, object? b, int line)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string s && b is string t) return string.CompareOrdinal(s, t) switch { < 0 => -1, > 0 => 1, _ => 0 };
        if (a is List<object?> l && b is List<object?> m)
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
                if (!Equal(l[i], m[i])) return Compare(l[i], m[i], line);
            return l.Count.CompareTo(m.Count);
        }
        throw new JinjaException($"line {line}: cannot compare {TypeName(a)} with {TypeName(b)} ('<' is not supported between them in Python).");
    }

    /// <summary>Python's <c>in</c>: substring, dict key, list element.</summary>
    public static bool Contains(object? container, object? item, int line) => container switch
    {
        string s => item is string t ? s.Contains(t, StringComparison.Ordinal) : throw new JinjaException($"line {line}: 'in <string>' requires a string on the left, not {TypeName(item)}."),
        List<object?> l => l.Any(x => Equal(x, item)),
        object?[] t => t.Any(x => Equal(x, item)),
        Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
        JinjaUndefined => false,
        _ => throw new JinjaException($"line {line}: argument of type '{TypeName(container)}' is not iterable (the right side of 'in')."),
    };

    /// <summary>Iterates as Python's <c>for</c> does: a dict yields its keys, a string its characters.</summary>
    public static IReadOnlyList<object?> Iterate(object? v, int line) => v switch
    {
        List<object?> l => l,
        object?[] t => t,
        Dictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => StringChars(s),
        JinjaUndefined => [],
        _ => throw new JinjaException($"line {line}: '{TypeName(v)}' object is not iterable."),
    };

    static List<object?> StringChars(string s)
    {
        var list = new List<object?>();
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length) { list.Add(s.Substring(i, 2)); i++; }
            else list.Add(s[i].ToString());
        }
        return list;
    }

    public static long ToLong(object? v, int line) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)Math.Truncate(d),
        _ => throw new JinjaException($"line {line}: expected an integer, got {TypeName(v)}."),
    };
}
