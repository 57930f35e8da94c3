namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// What one tool call gave the model to read: the result text, or — for a tool error, a timeout or an
/// error answer from the server — a message that says what went wrong (<see cref="IsError"/>), so the
/// model can recover on its next turn.
/// </summary>
public sealed record McpToolResult(string Text, bool IsError);
