using System.Globalization;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// Recursive-descent parser with jinja2's grammar (<c>parser.py</c>): this file holds the
/// statements (tags); JinjaParser.Expressions.cs the expressions, with jinja2's precedence:
/// conditional expression, <c>or</c>, <c>and</c>, <c>not</c>, comparisons (<c>in</c>, <c>not in</c>),
/// <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary minus, then primaries with
/// postfixes (<c>.attr</c>, <c>[key]</c>, slices, calls), filters (<c>|</c>) and tests (<c>is</c>).
/// </summary>
public sealed partial class JinjaParser
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
}
