using System.Text.Json.Nodes;

namespace Orleans.Rft.Agents;

/// <summary>
/// What a rollout's agent did: every model call in order (the training data), the messages it added
/// after the prompt in OpenAI format (assistant turns with <c>tool_calls</c>, <c>tool</c> results, user
/// turns; what <c>rft rollouts</c> shows and the evaluator scores), and how it ended. A failed rollout
/// (<see cref="FailureKind"/> set) is recorded with its reason and excluded from the baseline like an
/// invalid score; its calls are not trained on.
/// </summary>
public sealed record AgentTrajectory(
    IReadOnlyList<ModelCall> Calls,
    JsonArray Messages,
    int ToolCalls = 0,
    int ToolErrors = 0,
    string? FailureKind = null,
    string? Failure = null,
    double? ReportedScore = null,
    string? ReportedReason = null)
{
    /// <summary>The final assistant answer's text (the last call's), what single-answer evaluators score.</summary>
    public string FinalText => Calls.Count == 0 ? "" : Calls[^1].Text;

    public static AgentTrajectory Failed(string kind, string reason, IReadOnlyList<ModelCall>? calls = null, JsonArray? messages = null) =>
        new(calls ?? [], messages ?? new JsonArray(), FailureKind: kind, Failure: reason);
}

/// <summary>The ways a rollout's agent can fail; step metrics count each (<c>agent/failed/{kind}</c>).</summary>
public static class AgentFailureKinds
{
    public const string InitRefused = "init_refused";      // /init answered 4xx
    public const string ServerError = "server_error";      // 5xx or connection errors until the deadline
    public const string Deadline = "deadline";             // never finished within timeout_seconds
    public const string BadStatus = "bad_status";          // a status body that is not the protocol's, or an error code
    public const string BadToken = "bad_token";            // the agent called the model with a wrong token, repeatedly (RemoteRolloutRegistry.MaxRefusedCalls)
    public const string ToolServer = "tool_server";        // an MCP server died or could not start
    public const string AgentError = "agent_error";        // the agent could not run at all (an exception, a template without a tool-call format)
    public const string Context = "context_full";          // not a failure of the agent: the conversation filled the context (recorded, trained)
}
