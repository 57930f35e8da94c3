using System.Globalization;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// Arithmetic over named scores for <c>multi</c>: numbers, names, + − * /, parentheses, min(…), max(…).
/// Parsed once (recursive descent) into a closure; unknown names are reported at parse time.
/// The text comes from a job spec, which reaches every silo: its length and nesting are capped so
/// that neither the parser's recursion nor the closure's can overflow the stack (an overflow ends the
/// process, and a job's reminder would carry it to the next silo).
/// </summary>
public static class Formula
{
    /// <summary>Longest formula accepted, in characters.</summary>
    public const int MaxLength = 4096;

    /// <summary>Deepest nesting accepted: parentheses, unary minus and min/max calls, each one level.</summary>
    public const int MaxDepth = 64;

    public static Func<IReadOnlyDictionary<string, double>, double> Parse(string text, IReadOnlyCollection<string> names, string at)
    {
        if (text.Length > MaxLength)
            throw new SpecException(at, $"is {text.Length:N0} characters; a formula may have at most {MaxLength:N0}. Combine fewer terms, or use 'weights'.");
        int pos = 0, depth = 0;
        Func<IReadOnlyDictionary<string, double>, double> Fail(string why) => throw new SpecException(at, $"{why} at position {pos} of '{text}'.");
        void Skip() { while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++; }
        bool Eat(char c) { Skip(); if (pos < text.Length && text[pos] == c) { pos++; return true; } return false; }

        Func<IReadOnlyDictionary<string, double>, double> Expr()
        {
            var left = Term();
            while (true)
            {
                if (Eat('+')) { var l = left; var r = Term(); left = v => l(v) + r(v); }
                else if (Eat('-')) { var l = left; var r = Term(); left = v => l(v) - r(v); }
                else return left;
            }
        }
        Func<IReadOnlyDictionary<string, double>, double> Term()
        {
            var left = Factor();
            while (true)
            {
                if (Eat('*')) { var l = left; var r = Factor(); left = v => l(v) * r(v); }
                else if (Eat('/')) { var l = left; var r = Factor(); left = v => l(v) / r(v); }
                else return left;
            }
        }
        Func<IReadOnlyDictionary<string, double>, double> Factor()
        {
            if (++depth > MaxDepth) return Fail($"nesting deeper than {MaxDepth} levels (parentheses, '-' and min/max each count one); simplify the formula");
            try { return Primary(); }
            finally { depth--; }
        }
        Func<IReadOnlyDictionary<string, double>, double> Primary()
        {
            Skip();
            if (Eat('-')) { var f = Factor(); return v => -f(v); }
            if (Eat('(')) { var e = Expr(); if (!Eat(')')) return Fail("expected ')'"); return e; }
            int start = pos;
            if (pos < text.Length && (char.IsDigit(text[pos]) || text[pos] == '.'))
            {
                while (pos < text.Length && (char.IsDigit(text[pos]) || text[pos] == '.')) pos++;
                var number = double.Parse(text[start..pos], CultureInfo.InvariantCulture);
                return _ => number;
            }
            while (pos < text.Length && (char.IsLetterOrDigit(text[pos]) || text[pos] == '_')) pos++;
            var name = text[start..pos];
            if (name.Length == 0) return Fail("expected a number, a name or '('");
            if (name is "min" or "max")
            {
                if (!Eat('(')) return Fail($"expected '(' after {name}");
                var args = new List<Func<IReadOnlyDictionary<string, double>, double>> { Expr() };
                while (Eat(',')) args.Add(Expr());
                if (!Eat(')')) return Fail("expected ')'");
                return name == "min" ? v => args.Min(a => a(v)) : v => args.Max(a => a(v));
            }
            if (!names.Contains(name)) return Fail($"unknown evaluator '{name}' (defined: {string.Join(", ", names)})");
            return v => v[name];
        }

        var result = Expr();
        Skip();
        if (pos != text.Length) Fail("unexpected text");
        return result;
    }
}
