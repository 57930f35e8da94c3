using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Agents;

/// <summary>
/// One rollout an agent runs: the dataset row's conversation (its trailing assistant turn removed) and
/// tools, the policy to call, and the ids that name it to remote agents (Eval Protocol's metadata).
/// </summary>
public sealed record AgentRollout(
    string RolloutId,
    JsonObject Row,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<JsonObject>? Tools,
    IPolicy Policy,
    AgentRolloutIds Ids);

/// <summary>Eval Protocol's rollout metadata: <c>invocation_id</c> (the job run), <c>experiment_id</c> (the job), <c>run_id</c> (the step), <c>row_id</c>, <c>rollout_id</c>.</summary>
public sealed record AgentRolloutIds(string InvocationId, string ExperimentId, string RunId, string RowId, string RolloutId);
