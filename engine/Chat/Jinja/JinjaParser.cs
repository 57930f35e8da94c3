using System.Globalization;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// Recursive-descent parser with jinja2's grammar and precedence (<c>parser.py</c>):
/// conditional expression, <c>or</c>, <c>and</c>, <c>not</c>, comparisons (<c>in</c>, <c>not in</c>),
/// <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary minus, then primaries with
/// postfixes (<c>.attr</c>, <c>[key]</c>, slices, calls), filters (<c>|</c>) and tests (<c>is</c>).
/// </summary>
public sealed class JinjaParser
{
    readonly List<JinjaToken> tokens;
    int pos;

    JinjaParser(List<JinjaToken> tokens) => this.tokens = tokens;

    public static IReadOnlyList<JinjaNode> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source));
        var body = parser.ParseBody([], out _);
        return body;
    }

    JinjaToken Current => tokens[pos];
    JinjaToken Peek(int k = 1) => tokens[Math.Min(pos + k, tokens.Count - 1)];
    JinjaToken Next() => tokens[pos++];

    JinjaException Error(string message) => new($"line {Current.Line}: {message}");

    void ExpectOp(string op)
    {
        if (!Current.IsOp(op)) throw Error($"expected '{op}', found {Current}.");
        pos++;
    }

    string ExpectName()
    {
        if (Current.Kind != JinjaTokenKind.Name) throw Error($"expected a name, found {Current}.");
        return Next().Value;
    }

    void ExpectBlockEnd()
    {
        if (Current.Kind != JinjaTokenKind.BlockEnd) throw Error($"expected '%}}', found {Current}.");
        pos++;
    }

    bool SkipOp(string op)
    {
        if (!Current.IsOp(op)) return false;
        pos++;
        return true;
    }

    bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        pos++;
        return true;
    }

    /// <summary>Statements up to a block tag named in <paramref name="endTags"/>; <paramref name="endTag"/> is the one found (its name consumed).</summary>
    List<JinjaNode> ParseBody(string[] endTags, out string? endTag)
    {
        var body = new List<JinjaNode>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case JinjaTokenKind.End:
                    if (endTags.Length > 0) throw Error($"the template ended inside a block: '{{% {endTags.FirstOrDefault(e => e.StartsWith("end", StringComparison.Ordinal)) ?? endTags[0]} %}}' is missing.");
                    endTag = null;
                    return body;
                case JinjaTokenKind.Data:
                    pos++;
                    body.Add(new TextNode(t.Value, t.Line));
                    break;
                case JinjaTokenKind.VariableBegin:
                    pos++;
                    var e = ParseTuple();
                    if (Current.Kind != JinjaTokenKind.VariableEnd) throw Error($"expected '}}}}', found {Current}.");
                    pos++;
                    body.Add(new OutputNode(e, t.Line));
                    break;
                case JinjaTokenKind.BlockBegin:
                    pos++;
                    if (Current.Kind == JinjaTokenKind.Name && endTags.Contains(Current.Value))
                    {
                        endTag = Next().Value;
                        return body;
                    }
                    body.Add(ParseStatement());
                    break;
                default:
                    throw Error($"unexpected {t}.");
            }
        }
    }

    JinjaNode ParseStatement()
    {
        int line = Current.Line;
        var name = ExpectName();
        switch (name)
        {
            case "if": return ParseIf(line);
            case "for": return ParseFor(line);
            case "set": return ParseSet(line);
            case "macro": return ParseMacro(line);
            case "call": return ParseCallBlock(line);
            case "filter": return ParseFilterBlock(line);
            case "generation":
            {
                ExpectBlockEnd();
                var body = ParseBody(["endgeneration"], out _);
                ExpectBlockEnd();
                return new GenerationNode(body, line);
            }
            case "break": ExpectBlockEnd(); return new BreakNode(line);
            case "continue": ExpectBlockEnd(); return new ContinueNode(line);
            default: throw new JinjaException($"line {line}: unknown tag '{name}' (this renderer supports if, for, set, macro, call, filter, generation, break, continue, raw).");
        }
    }

    IfNode ParseIf(int line)
    {
        var branches = new List<(JinjaExpr, IReadOnlyList<JinjaNode>)>();
        List<JinjaNode>? elseBody = null;
        var test = ParseTuple();
        ExpectBlockEnd();
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"], out var end);
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseTuple();
                ExpectBlockEnd();
                continue;
            }
            if (end == "else")
            {
                ExpectBlockEnd();
                elseBody = ParseBody(["endif"], out _);
            }
            ExpectBlockEnd();
            return new IfNode(branches, elseBody, line);
        }
    }

    ForNode ParseFor(int line)
    {
        var targets = new List<string> { ExpectName() };
        while (SkipOp(",")) targets.Add(ExpectName());
        if (!SkipName("in")) throw Error($"expected 'in' in the for loop, found {Current}.");
        var iterable = ParseTuple(withCondExpr: false);
        JinjaExpr? filter = null;
        if (SkipName("if")) filter = ParseExpression();
        SkipName("recursive");
        ExpectBlockEnd();
        var body = ParseBody(["endfor", "else"], out var end);
        List<JinjaNode>? elseBody = null;
        if (end == "else")
        {
            ExpectBlockEnd();
            elseBody = ParseBody(["endfor"], out _);
        }
        ExpectBlockEnd();
        return new ForNode(targets, iterable, filter, body, elseBody, line);
    }

    JinjaNode ParseSet(int line)
    {
        var first = ExpectName();
        if (SkipOp("."))
        {
            var attr = ExpectName();
            ExpectOp("=");
            var v = ParseTuple();
            ExpectBlockEnd();
            return new SetNode([first], attr, v, line);
        }
        var targets = new List<string> { first };
        while (SkipOp(",")) targets.Add(ExpectName());
        if (Current.Kind == JinjaTokenKind.BlockEnd && targets.Count == 1)
        {
            pos++;
            var body = ParseBody(["endset"], out _);
            ExpectBlockEnd();
            return new SetBlockNode(first, body, line);
        }
        ExpectOp("=");
        var value = ParseTuple();
        ExpectBlockEnd();
        return new SetNode(targets, null, value, line);
    }

    MacroNode ParseMacro(int line)
    {
        var name = ExpectName();
        var (parameters, defaults) = ParseSignature();
        ExpectBlockEnd();
        var body = ParseBody(["endmacro"], out _);
        ExpectBlockEnd();
        return new MacroNode(name, parameters, defaults, body, line);
    }

    (List<string>, List<JinjaExpr?>) ParseSignature()
    {
        var parameters = new List<string>();
        var defaults = new List<JinjaExpr?>();
        if (!SkipOp("(")) return (parameters, defaults);
        while (!Current.IsOp(")"))
        {
            if (parameters.Count > 0) ExpectOp(",");
            if (Current.IsOp(")")) break;
            parameters.Add(ExpectName());
            defaults.Add(SkipOp("=") ? ParseExpression() : null);
        }
        ExpectOp(")");
        return (parameters, defaults);
    }

    CallBlockNode ParseCallBlock(int line)
    {
        if (Current.IsOp("(")) ParseSignature(); // caller parameters: accepted, caller() is called without arguments here
        var call = ParseExpression() as JinjaCallExpr ?? throw new JinjaException($"line {line}: '{{% call %}}' needs a macro call.");
        ExpectBlockEnd();
        var body = ParseBody(["endcall"], out _);
        ExpectBlockEnd();
        return new CallBlockNode(call, body, line);
    }

    FilterBlockNode ParseFilterBlock(int line)
    {
        var name = ExpectName();
        var args = new List<JinjaExpr>();
        if (Current.IsOp("(")) args.AddRange(ParseCallArgs().Args);
        ExpectBlockEnd();
        var body = ParseBody(["endfilter"], out _);
        ExpectBlockEnd();
        return new FilterBlockNode(name, args, body, line);
    }

    /// <summary>An expression, or a tuple when commas follow (<c>{{ a, b }}</c>, <c>set a, b = 1, 2</c>).</summary>
    JinjaExpr ParseTuple(bool withCondExpr = true)
    {
        int line = Current.Line;
        var first = withCondExpr ? ParseExpression() : ParseOr();
        if (!Current.IsOp(",")) return first;
        var items = new List<JinjaExpr> { first };
        while (SkipOp(","))
        {
            if (Current.Kind is JinjaTokenKind.BlockEnd or JinjaTokenKind.VariableEnd || Current.IsOp(")")) break;
            items.Add(withCondExpr ? ParseExpression() : ParseOr());
        }
        return new ListExpr(items, true, line);
    }

    JinjaExpr ParseExpression()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            var test = ParseOr();
            JinjaExpr? otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new CondExpr(test, expr, otherwise, line);
        }
        return expr;
    }

    JinjaExpr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or")) { int line = Next().Line; left = new BinaryExpr("or", left, ParseAnd(), line); }
        return left;
    }

    JinjaExpr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and")) { int line = Next().Line; left = new BinaryExpr("and", left, ParseNot(), line); }
        return left;
    }

    JinjaExpr ParseNot()
    {
        if (Current.IsName("not")) { int line = Next().Line; return new UnaryExpr("not", ParseNot(), line); }
        return ParseCompare();
    }

    JinjaExpr ParseCompare()
    {
        int line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, JinjaExpr)>();
        while (true)
        {
            if (Current.Kind == JinjaTokenKind.Operator && Current.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                var op = Next().Value;
                rest.Add((op, ParseMath1()));
            }
            else if (SkipName("in")) rest.Add(("in", ParseMath1()));
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                pos += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    JinjaExpr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOp("+") || Current.IsOp("-")) { var t = Next(); left = new BinaryExpr(t.Value, left, ParseConcat(), t.Line); }
        return left;
    }

    JinjaExpr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOp("~")) { var t = Next(); left = new BinaryExpr("~", left, ParseMath2(), t.Line); }
        return left;
    }

    JinjaExpr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var t = Next();
            left = new BinaryExpr(t.Value, left, ParsePow(), t.Line);
        }
        return left;
    }

    JinjaExpr ParsePow()
    {
        var left = ParseUnary();
        while (Current.IsOp("**")) { var t = Next(); left = new BinaryExpr("**", left, ParseUnary(), t.Line); }
        return left;
    }

    JinjaExpr ParseUnary(bool withFilter = true)
    {
        JinjaExpr node;
        if (Current.IsOp("-") || Current.IsOp("+"))
        {
            var t = Next();
            node = new UnaryExpr(t.Value, ParseUnary(false), t.Line);
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpr(node);
        return node;
    }

    JinjaExpr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case JinjaTokenKind.Name:
                pos++;
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(true, t.Line),
                    "false" or "False" => new ConstExpr(false, t.Line),
                    "none" or "None" => new ConstExpr(null, t.Line),
                    _ => new NameExpr(t.Value, t.Line),
                };
            case JinjaTokenKind.String:
            {
                pos++;
                var s = t.Value;
                while (Current.Kind == JinjaTokenKind.String) s += Next().Value; // adjacent literals concatenate
                return new ConstExpr(s, t.Line);
            }
            case JinjaTokenKind.Integer:
                pos++;
                return new ConstExpr(long.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case JinjaTokenKind.Float:
                pos++;
                return new ConstExpr(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case JinjaTokenKind.Operator when t.Value == "(":
            {
                pos++;
                if (SkipOp(")")) return new ListExpr([], true, t.Line);
                var inner = ParseTuple();
                if (inner is ListExpr { IsTuple: true }) { ExpectOp(")"); return inner; }
                if (SkipOp(",")) { ExpectOp(")"); return new ListExpr([inner], true, t.Line); }
                ExpectOp(")");
                return inner;
            }
            case JinjaTokenKind.Operator when t.Value == "[":
            {
                pos++;
                var items = new List<JinjaExpr>();
                while (!Current.IsOp("]"))
                {
                    if (items.Count > 0) ExpectOp(",");
                    if (Current.IsOp("]")) break;
                    items.Add(ParseExpression());
                }
                ExpectOp("]");
                return new ListExpr(items, false, t.Line);
            }
            case JinjaTokenKind.Operator when t.Value == "{":
            {
                pos++;
                var items = new List<(JinjaExpr, JinjaExpr)>();
                while (!Current.IsOp("}"))
                {
                    if (items.Count > 0) ExpectOp(",");
                    if (Current.IsOp("}")) break;
                    var key = ParseExpression();
                    ExpectOp(":");
                    items.Add((key, ParseExpression()));
                }
                ExpectOp("}");
                return new DictExpr(items, t.Line);
            }
            default:
                throw Error($"unexpected {t} in an expression.");
        }
    }

    JinjaExpr ParsePostfix(JinjaExpr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOp("."))
            {
                pos++;
                if (Current.Kind == JinjaTokenKind.Integer) node = new ItemExpr(node, new ConstExpr(long.Parse(Next().Value, CultureInfo.InvariantCulture), t.Line), t.Line);
                else node = new AttrExpr(node, ExpectName(), t.Line);
            }
            else if (t.IsOp("[")) node = ParseSubscript(node);
            else if (t.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }

    JinjaExpr ParseSubscript(JinjaExpr target)
    {
        int line = Next().Line;
        JinjaExpr? start = null, stop = null, step = null;
        if (!Current.IsOp(":")) start = ParseExpression();
        if (!SkipOp(":"))
        {
            ExpectOp("]");
            return new ItemExpr(target, start!, line);
        }
        if (!Current.IsOp(":") && !Current.IsOp("]")) stop = ParseExpression();
        if (SkipOp(":") && !Current.IsOp("]")) step = ParseExpression();
        ExpectOp("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    JinjaCallExpr ParseCall(JinjaExpr callee)
    {
        int line = Current.Line;
        var (args, kwargs) = ParseCallArgs();
        return new JinjaCallExpr(callee, args, kwargs, line);
    }

    (List<JinjaExpr> Args, List<(string, JinjaExpr)> Kwargs) ParseCallArgs()
    {
        ExpectOp("(");
        var args = new List<JinjaExpr>();
        var kwargs = new List<(string, JinjaExpr)>();
        while (!Current.IsOp(")"))
        {
            if (args.Count + kwargs.Count > 0) ExpectOp(",");
            if (Current.IsOp(")")) break;
            if (Current.Kind == JinjaTokenKind.Name && Peek().IsOp("="))
            {
                var name = Next().Value;
                pos++;
                kwargs.Add((name, ParseExpression()));
            }
            else args.Add(ParseExpression());
        }
        ExpectOp(")");
        return (args, kwargs);
    }

    JinjaExpr ParseFilterExpr(JinjaExpr node)
    {
        while (true)
        {
            if (Current.IsOp("|"))
            {
                int line = Next().Line;
                var name = ExpectName();
                while (SkipOp(".")) name += "." + ExpectName();
                List<JinjaExpr> args = [];
                List<(string, JinjaExpr)> kwargs = [];
                if (Current.IsOp("(")) (args, kwargs) = ParseCallArgs();
                node = new FilterExpr(node, name, args, kwargs, line);
            }
            else if (Current.IsName("is"))
            {
                int line = Next().Line;
                bool negated = SkipName("not");
                var name = ExpectName();
                while (SkipOp(".")) name += "." + ExpectName();
                var args = new List<JinjaExpr>();
                if (Current.IsOp("(")) args = ParseCallArgs().Args;
                else if ((Current.Kind is JinjaTokenKind.Name or JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                          || Current.IsOp("[") || Current.IsOp("{"))
                         && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
                    args.Add(ParsePostfix(ParsePrimary()));
                node = new TestExpr(node, name, args, negated, line);
            }
            else if (Current.IsOp("(")) node = ParseCall(node);
            else return node;
        }
    }
}
