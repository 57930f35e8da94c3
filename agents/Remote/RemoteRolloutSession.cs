using System.Text.Json.Nodes;

namespace Orleans.Rft.Agents.Remote;

/// <summary>How a remote rollout ended: the agent's final status, or a failure of its own kind and reason.</summary>
public sealed record RolloutEnd(RolloutStatus? Status, string? FailureKind = null, string? Failure = null)
{
    public static RolloutEnd Failed(string kind, string reason) => new(null, kind, reason);

    /// <summary>
    /// A final status, however it arrived (<paramref name="via"/>): OK, finished or score-invalid end the
    /// rollout normally; a gRPC error code (1–16) or a terminated "running" fails it as <c>bad_status</c>.
    /// </summary>
    public static RolloutEnd Of(RolloutStatus status, string via) =>
        status.IsSuccess || status.Code == RolloutStatus.ScoreInvalid ? new RolloutEnd(status)
            : new RolloutEnd(status, AgentFailureKinds.BadStatus, $"the agent reported {status.Describe()} ({via})");
}

/// <summary>
/// One live remote rollout on this silo: its token (kept as a digest), its deadline (when the token
/// expires), the policy its model calls sample from, the messages and answer of its last call (the
/// conversation the evaluator scores), and the first end anyone reports — a polled or pushed status, a
/// log line with a status, repeated wrong tokens, the deadline.
/// </summary>
public sealed class RemoteRolloutSession
{
    readonly object gate = new();
    (JsonArray Messages, JsonObject Answer)? last; // only the last call counts (Conversation): earlier ones are not kept
    int exchanges;
    readonly TaskCompletionSource<RolloutEnd> end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly CancellationTokenSource ended = new();
    int refused;

    internal RemoteRolloutSession(string rolloutId, string model, IPolicy policy, DateTimeOffset deadline, byte[] tokenDigest)
    {
        (RolloutId, Model, Policy, Deadline, TokenDigest) = (rolloutId, model, policy, deadline, tokenDigest);
    }

    public string RolloutId { get; }
    /// <summary>The model name the agent was given in <c>completion_params.model</c> (answered back in responses).</summary>
    public string Model { get; }
    public IPolicy Policy { get; }
    public DateTimeOffset Deadline { get; }
    internal byte[] TokenDigest { get; }

    /// <summary>Cancelled when the rollout ends: model calls still sampling for it stop.</summary>
    public CancellationToken Ended => ended.Token;

    /// <summary>Completes with the first end reported.</summary>
    public Task<RolloutEnd> End => end.Task;

    /// <summary>Reports how the rollout ended; only the first report counts. False when it had already ended.</summary>
    public bool TryEnd(RolloutEnd how)
    {
        if (!end.TrySetResult(how)) return false;
        ended.Cancel(); // never disposed: it has no timer, and handlers may still hold the session
        return true;
    }

    /// <summary>Counts one call refused for a wrong token; returns the count so far.</summary>
    internal int Refuse() => Interlocked.Increment(ref refused);

    /// <summary>
    /// Records one answered model call: the messages it was given and the assistant message it got. Only
    /// the last call is kept, as only it makes the conversation: an agent's many long calls cost one call's memory.
    /// </summary>
    public void Record(JsonArray messages, JsonObject answer)
    {
        lock (gate) { last = (messages, answer); exchanges++; }
    }

    /// <summary>Model calls answered for this rollout.</summary>
    public int Exchanges { get { lock (gate) return exchanges; } }

    /// <summary>
    /// The conversation after the row's prompt: the last call's messages past the prompt (all of them
    /// when the agent rewrote the prompt), then that call's answer. Empty when the agent never called the model.
    /// </summary>
    public JsonArray Conversation(JsonArray rowPrompt)
    {
        (JsonArray Messages, JsonObject Answer) last;
        lock (gate)
        {
            if (this.last is not { } kept) return new JsonArray();
            last = kept;
        }
        int skip = StartsWith(last.Messages, rowPrompt) ? rowPrompt.Count : 0;
        var result = new JsonArray();
        for (int i = skip; i < last.Messages.Count; i++) result.Add(last.Messages[i]?.DeepClone());
        result.Add(last.Answer.DeepClone());
        return result;
    }

    static bool StartsWith(JsonArray messages, JsonArray prefix)
    {
        if (messages.Count < prefix.Count) return false;
        for (int i = 0; i < prefix.Count; i++)
            if (messages[i]?["role"]?.ToString() != prefix[i]?["role"]?.ToString() || messages[i]?["content"]?.ToString() != prefix[i]?["content"]?.ToString()) return false;
        return true;
    }
}
