using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// The body of <c>POST {agent}/init</c>, as Eval Protocol's remote rollout processor sends it:
/// <c>completion_params</c> (<c>model</c> and the job's sampling settings), <c>messages</c> (OpenAI format:
/// role, content, tool_calls, tool_call_id, name), <c>tools</c>, <c>model_base_url</c> (an OpenAI base URL
/// scoped to this rollout), <c>api_key</c> (its token) and <c>metadata</c>. <c>model</c> is repeated at the
/// top level, where earlier versions of the protocol put it.
/// </summary>
public static class RemoteInitRequest
{
    public static JsonObject Build(AgentRollout rollout, string model, string modelBaseUrl, string token, JsonArray messages)
    {
        var o = rollout.Policy.Options;
        var completion = new JsonObject
        {
            ["model"] = model,
            ["temperature"] = o.Temperature,
            ["top_p"] = o.TopP,
            ["max_tokens"] = o.MaxTokens,
        };
        if (o.TopK > 0) completion["top_k"] = o.TopK;
        if (o.Stop is { Count: > 0 } stop) completion["stop"] = new JsonArray(stop.Select(s => (JsonNode)s).ToArray());
        var ids = rollout.Ids;
        return new JsonObject
        {
            ["completion_params"] = completion,
            ["model"] = model,
            ["messages"] = messages.DeepClone(),
            ["tools"] = rollout.Tools is { Count: > 0 } tools ? new JsonArray(tools.Select(t => t.DeepClone()).ToArray()) : null,
            ["model_base_url"] = modelBaseUrl,
            ["api_key"] = token,
            ["metadata"] = new JsonObject
            {
                ["invocation_id"] = ids.InvocationId, ["experiment_id"] = ids.ExperimentId, ["rollout_id"] = ids.RolloutId,
                ["run_id"] = ids.RunId, ["row_id"] = ids.RowId,
            },
        };
    }

    /// <summary>Chat messages in OpenAI's wire shape (function arguments as JSON text, as OpenAI sends them).</summary>
    public static JsonArray Messages(IReadOnlyList<ChatMessage> messages)
    {
        var array = new JsonArray();
        foreach (var m in messages)
        {
            var o = new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
            if (m.ToolCalls is { Count: > 0 } calls)
                o["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode)new JsonObject
                {
                    ["id"] = c.Id, ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments.ToJsonString() },
                }).ToArray());
            if (m.ToolCallId is not null) o["tool_call_id"] = m.ToolCallId;
            if (m.Name is not null) o["name"] = m.Name;
            array.Add(o);
        }
        return array;
    }
}
