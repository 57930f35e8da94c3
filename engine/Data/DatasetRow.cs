using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Engine.Data;

/// <summary>
/// One line of a dataset (DESIGN §4): <c>messages</c>, optional <c>tools</c> (OpenAI function format),
/// <c>ground_truth</c>, <c>input_metadata</c>, and any other keys (kept in <see cref="Raw"/> for the evaluator).
/// </summary>
public sealed record DatasetRow(int Line, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<JsonObject>? Tools, JsonNode? GroundTruth, JsonObject Raw)
{
    /// <summary>The messages up to (not including) a trailing assistant answer: the prompt to sample from.</summary>
    public IReadOnlyList<ChatMessage> PromptMessages =>
        Messages.Count > 0 && Messages[^1].Role == "assistant" ? Messages.Take(Messages.Count - 1).ToList() : Messages;
}
