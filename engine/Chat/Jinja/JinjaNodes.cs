namespace Orleans.Rft.Engine.Chat.Jinja;

// The syntax tree of a template: statements (what the template does) and expressions (what it
// computes). Each node keeps its line for error messages.

public abstract record JinjaNode(int Line);

public sealed record TextNode(string Text, int Line) : JinjaNode(Line);
public sealed record OutputNode(JinjaExpr Expr, int Line) : JinjaNode(Line);
public sealed record IfNode(IReadOnlyList<(JinjaExpr Test, IReadOnlyList<JinjaNode> Body)> Branches, IReadOnlyList<JinjaNode>? Else, int Line) : JinjaNode(Line);
public sealed record ForNode(IReadOnlyList<string> Targets, JinjaExpr Iterable, JinjaExpr? Filter, IReadOnlyList<JinjaNode> Body, IReadOnlyList<JinjaNode>? Else, int Line) : JinjaNode(Line);
/// <summary><c>{% set a = x %}</c>, <c>{% set a, b = x %}</c>, <c>{% set ns.attr = x %}</c>.</summary>
public sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, JinjaExpr Value, int Line) : JinjaNode(Line);
/// <summary><c>{% set a %}…{% endset %}</c>: the rendered body is assigned.</summary>
public sealed record SetBlockNode(string Target, IReadOnlyList<JinjaNode> Body, int Line) : JinjaNode(Line);
public sealed record MacroNode(string Name, IReadOnlyList<string> Parameters, IReadOnlyList<JinjaExpr?> Defaults, IReadOnlyList<JinjaNode> Body, int Line) : JinjaNode(Line);
/// <summary><c>{% call m(args) %}body{% endcall %}</c>: the macro sees the body as <c>caller()</c>.</summary>
public sealed record CallBlockNode(JinjaCallExpr Call, IReadOnlyList<JinjaNode> Body, int Line) : JinjaNode(Line);
public sealed record FilterBlockNode(string Filter, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<JinjaNode> Body, int Line) : JinjaNode(Line);
public sealed record BreakNode(int Line) : JinjaNode(Line);
public sealed record ContinueNode(int Line) : JinjaNode(Line);
/// <summary><c>{% generation %}…{% endgeneration %}</c>: transformers' marker of assistant output (for loss masks).</summary>
public sealed record GenerationNode(IReadOnlyList<JinjaNode> Body, int Line) : JinjaNode(Line);

public abstract record JinjaExpr(int Line);

public sealed record ConstExpr(object? Value, int Line) : JinjaExpr(Line);
public sealed record NameExpr(string Name, int Line) : JinjaExpr(Line);
public sealed record AttrExpr(JinjaExpr Target, string Name, int Line) : JinjaExpr(Line);
public sealed record ItemExpr(JinjaExpr Target, JinjaExpr Key, int Line) : JinjaExpr(Line);
public sealed record SliceExpr(JinjaExpr Target, JinjaExpr? Start, JinjaExpr? Stop, JinjaExpr? Step, int Line) : JinjaExpr(Line);
public sealed record JinjaCallExpr(JinjaExpr Callee, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, int Line) : JinjaExpr(Line);
public sealed record FilterExpr(JinjaExpr Target, string Name, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, int Line) : JinjaExpr(Line);
public sealed record TestExpr(JinjaExpr Target, string Name, IReadOnlyList<JinjaExpr> Args, bool Negated, int Line) : JinjaExpr(Line);
public sealed record UnaryExpr(string Op, JinjaExpr Operand, int Line) : JinjaExpr(Line);
public sealed record BinaryExpr(string Op, JinjaExpr Left, JinjaExpr Right, int Line) : JinjaExpr(Line);
/// <summary>Python's chained comparison: <c>a &lt; b &lt;= c</c> is <c>a &lt; b and b &lt;= c</c>.</summary>
public sealed record CompareExpr(JinjaExpr First, IReadOnlyList<(string Op, JinjaExpr Operand)> Rest, int Line) : JinjaExpr(Line);
public sealed record CondExpr(JinjaExpr Test, JinjaExpr Then, JinjaExpr? Else, int Line) : JinjaExpr(Line);
public sealed record ListExpr(IReadOnlyList<JinjaExpr> Items, bool IsTuple, int Line) : JinjaExpr(Line);
public sealed record DictExpr(IReadOnlyList<(JinjaExpr Key, JinjaExpr Value)> Items, int Line) : JinjaExpr(Line);
