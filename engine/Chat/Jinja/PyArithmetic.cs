namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>Python's binary operators on template values: int stays int, <c>/</c> is true division, <c>//</c> and <c>%</c> floor.</summary>
public static class PyArithmetic
{
    public static object? Apply(string op, object? a, object? b, int line)
    {
        if (a is bool ba) a = ba ? 1L : 0L;
        if (b is bool bb) b = bb ? 1L : 0L;
        switch (op)
        {
            case "+":
                if (a is string s && b is string t) return s + t;
                if (a is List<object?> l && b is List<object?> m) return l.Concat(m).ToList();
                if (a is object?[] x && b is object?[] y) return x.Concat(y).ToArray();
                break;
            case "*":
                if (a is string rs && b is long rn) return rn <= 0 ? "" : string.Concat(Enumerable.Repeat(rs, (int)rn));
                if (a is long ln && b is string ls) return ln <= 0 ? "" : string.Concat(Enumerable.Repeat(ls, (int)ln));
                if (a is List<object?> rl && b is long rc) return Enumerable.Repeat(rl, (int)Math.Max(0, rc)).SelectMany(z => z).ToList();
                break;
        }
        if (a is long i && b is long j)
        {
            switch (op)
            {
                case "+": return i + j;
                case "-": return i - j;
                case "*": return i * j;
                case "/": return j == 0 ? throw ZeroDivision(line) : (double)i / j;
                case "//": return j == 0 ? throw ZeroDivision(line) : FloorDiv(i, j);
                case "%": return j == 0 ? throw ZeroDivision(line) : i - FloorDiv(i, j) * j;
                case "**": return j >= 0 ? (object)(long)Math.Pow(i, j) : Math.Pow(i, j);
            }
        }
        if (a is long or double && b is long or double)
        {
            double p = Convert.ToDouble(a), q = Convert.ToDouble(b);
            switch (op)
            {
                case "+": return p + q;
                case "-": return p - q;
                case "*": return p * q;
                case "/": return q == 0 ? throw ZeroDivision(line) : p / q;
                case "//": return q == 0 ? throw ZeroDivision(line) : Math.Floor(p / q);
                case "%": return q == 0 ? throw ZeroDivision(line) : p - Math.Floor(p / q) * q;
                case "**": return Math.Pow(p, q);
            }
        }
        if (a is JinjaUndefined u || b is JinjaUndefined)
            throw new JinjaException($"line {line}: '{((a as JinjaUndefined) ?? (JinjaUndefined)b!).Name}' is undefined (used with '{op}').");
        throw new JinjaException($"line {line}: unsupported operand types for {op}: '{PyValue.TypeName(a)}' and '{PyValue.TypeName(b)}'.");
    }

    static long FloorDiv(long i, long j)
    {
        long q = i / j;
        if ((i % j != 0) && ((i < 0) != (j < 0))) q--;
        return q;
    }

    static JinjaException ZeroDivision(int line) => new($"line {line}: division by zero.");
}
