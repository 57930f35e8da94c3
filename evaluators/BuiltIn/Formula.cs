using System.Globalization;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// Arithmetic over named scores for <c>multi</c>: numbers, names, + − * /, parentheses, min(…), max(…).
/// Parsed once (recursive descent) into a closure; unknown names are reported at parse time, and a
/// division by zero where the parts score 0 or 1 (<see cref="CheckFinite"/>) before the job starts.
/// Kept hand-written rather than NCalc: this grammar is all a reward combination needs, and its length
/// and nesting caps below are what make a hostile spec unable to overflow the stack; NCalc's parser
/// documents no such bound, and its function library (and extension hooks) is more surface than a job
/// spec that reaches every silo should have.
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

    /// <summary>Most parts whose 0/1 corners are all tried (2^n evaluations); beyond it, each part alone at 0 and at 1.</summary>
    const int ExhaustiveParts = 10;

    /// <summary>
    /// Refuses a formula that is not a finite number at the corners of the score space (every part 0 or 1),
    /// where divisions by a part's score fail: <c>a / b</c> is NaN or infinite whenever b scores 0.
    /// At runtime a non-finite result is an invalid sample anyway; this makes the common mistake an error at submission.
    /// </summary>
    public static void CheckFinite(Func<IReadOnlyDictionary<string, double>, double> formula, IReadOnlyList<string> names, string text, string at)
    {
        IEnumerable<Dictionary<string, double>> Corners()
        {
            if (names.Count <= ExhaustiveParts)
            {
                for (int mask = 0; mask < 1 << names.Count; mask++)
                    yield return names.Select((n, i) => (n, v: (mask >> i & 1) == 1 ? 1.0 : 0.0)).ToDictionary(x => x.n, x => x.v);
                yield break;
            }
            foreach (var fill in new[] { 0.0, 1.0 })
            {
                yield return names.ToDictionary(n => n, _ => fill);
                foreach (var one in names) yield return names.ToDictionary(n => n, n => n == one ? 1 - fill : fill);
            }
        }
        foreach (var corner in Corners())
        {
            var value = formula(corner);
            if (double.IsFinite(value)) continue;
            var scores = string.Join(", ", corner.Select(kv => $"{kv.Key} = {kv.Value}"));
            throw new SpecException(at, $"'{text}' is {value} when {scores} (a division by zero); guard the divisor, e.g. a / max(b, 0.01).");
        }
    }
}
