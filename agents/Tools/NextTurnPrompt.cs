using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// The prompt of the model's next turn, built so that <see cref="TrajectoryMerge"/> keeps the rollout one
/// sequence: the previous call's prompt ids, the model's own completion ids (never re-tokenised), then the
/// ids of only the text the template inserts after the model's turn — the end of that turn the model did
/// not write itself (e.g. ChatML's newline after <c>&lt;|im_end|&gt;</c>), the tool results and the next
/// generation prompt. That text is the suffix of the new full render after the render of the conversation
/// up to the model's turn. A template that re-renders history (so no such suffix exists) gets the full
/// render instead; the merge then starts a new sequence, which is allowed.
/// </summary>
public static class NextTurnPrompt
{
    /// <param name="before">The conversation the last call answered (before the model's turn).</param>
    /// <param name="after">That conversation, the model's turn, and what was added after it (tool results).</param>
    /// <returns>The next prompt's ids, and whether they extend the last call (false: a full render).</returns>
    public static (int[] Ids, bool Extends) Build(IPolicy policy, IReadOnlyList<JsonObject>? tools, IReadOnlyList<ChatMessage> before, ModelCall last, IReadOnlyList<ChatMessage> after)
    {
        var prompt = policy.RenderText(before, tools, addGenerationPrompt: true);
        var withTurn = policy.RenderText(after.Take(before.Count + 1).ToList(), tools, addGenerationPrompt: false);
        var next = policy.RenderText(after, tools, addGenerationPrompt: true);
        if (!withTurn.StartsWith(prompt, StringComparison.Ordinal) || !next.StartsWith(withTurn, StringComparison.Ordinal))
            return (policy.Render(after, tools), false);
        var turn = withTurn[prompt.Length..];
        // The template's end of the model's turn: the last end-of-turn marker in the rendered turn.
        int at = -1;
        string marker = "";
        foreach (var m in policy.Template.EndOfTurnTokens)
        {
            int i = turn.LastIndexOf(m, StringComparison.Ordinal);
            if (i > at) (at, marker) = (i, m);
        }
        if (at < 0) return (policy.Render(after, tools), false);
        bool closedByModel = last.CompletionIds.Length > 0 && policy.Tokenizer.IdToToken(last.CompletionIds[^1]) is string end
            && policy.Template.EndOfTurnTokens.Contains(end);
        var inserted = (closedByModel ? turn[(at + marker.Length)..] : turn[at..]) + next[withTurn.Length..];
        return ([.. last.PromptIds, .. last.CompletionIds, .. policy.Tokenizer.Encode(inserted)], true);
    }
}
