using System.Globalization;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>The expression half of <see cref="JinjaParser"/>, one method per precedence level, loosest first.</summary>
public sealed partial class JinjaParser
{
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
