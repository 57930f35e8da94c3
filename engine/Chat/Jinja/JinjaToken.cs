namespace Orleans.Rft.Engine.Chat.Jinja;

public enum JinjaTokenKind { Data, BlockBegin, BlockEnd, VariableBegin, VariableEnd, Name, String, Integer, Float, Operator, End }

/// <summary>One lexical token; <see cref="Line"/> (1-based) is where it starts in the template, for error messages.</summary>
public readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line)
{
    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;
    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Value == name;
    public bool IsOp(string op) => Kind == JinjaTokenKind.Operator && Value == op;
    public override string ToString() => Kind == JinjaTokenKind.End ? "end of template" : $"'{Value}'";
}
