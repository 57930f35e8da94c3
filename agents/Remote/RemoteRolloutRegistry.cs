using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// The remote rollouts live on this silo (a singleton): rollout id → its session. The remote agent opens
/// one per rollout and closes it when the rollout ends, which revokes its token; the silo's
/// <c>/rollouts/{id}/…</c> routes and the log push find rollouts here. A rollout lives on the silo whose
/// rollout worker runs it, so an agent must reach that silo's own URL (<c>Rft:PublicUrl</c>).
/// </summary>
public sealed class RemoteRolloutRegistry
{
    /// <summary>Random bytes of a rollout token: 256 bits, far past guessing.</summary>
    public const int TokenBytes = 32;
    const string TokenPrefix = "rft-rollout-";

    readonly ConcurrentDictionary<string, RemoteRolloutSession> live = new(StringComparer.Ordinal);
    readonly TimeProvider clock;

    public RemoteRolloutRegistry(TimeProvider? clock = null) => this.clock = clock ?? TimeProvider.System;

    public int Count => live.Count;

    /// <summary>Opens a rollout and mints its token (returned once, kept only as a SHA-256 digest).</summary>
    public (RemoteRolloutSession Session, string Token) Open(string rolloutId, string model, IPolicy policy, DateTimeOffset deadline)
    {
        var token = TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(TokenBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var session = new RemoteRolloutSession(rolloutId, model, policy, deadline, Digest(token));
        if (!live.TryAdd(rolloutId, session)) throw new InvalidOperationException($"rollout '{rolloutId}' is already running on this silo.");
        return (session, token);
    }

    /// <summary>Ends the rollout's life here: its token is refused from now on.</summary>
    public void Close(string rolloutId) => live.TryRemove(rolloutId, out _);

    /// <summary>Refused calls with a wrong token after which a live rollout ends as <c>bad_token</c>.</summary>
    public const int MaxRefusedCalls = 5;

    /// <summary>The one reason every refusal gives: it tells a caller nothing about which rollouts exist.</summary>
    public const string Refusal = "no live rollout here takes this token (a wrong or missing token, an expired or ended rollout, or one that runs on another silo)";

    /// <summary>
    /// Checks an <c>Authorization</c> header for a rollout. An unknown rollout, a wrong token and an expired
    /// token are refused alike (<see cref="Refusal"/>), so a refusal tells nothing. A wrong token does not end
    /// the rollout at once — anyone who learnt a rollout id could then kill it — but after
    /// <see cref="MaxRefusedCalls"/> refused calls it does (<c>bad_token</c>): an agent that holds the wrong
    /// key cannot train it, and gives up its slot well before the deadline.
    /// </summary>
    public RolloutAccess Authorize(string rolloutId, string? authorization)
    {
        if (!live.TryGetValue(rolloutId, out var session)) return new RolloutAccess(null, Refusal);
        if (!Matches(session, authorization))
        {
            if (session.Refuse() >= MaxRefusedCalls)
                session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.BadToken, $"the silo refused {MaxRefusedCalls} calls for this rollout with a wrong or missing token"));
            return new RolloutAccess(null, Refusal);
        }
        if (clock.GetUtcNow() > session.Deadline) return new RolloutAccess(null, Refusal);
        return new RolloutAccess(session, null);
    }

    /// <summary>A live rollout by id, for callers authorised otherwise (an agent log key on the log push).</summary>
    public RemoteRolloutSession? Find(string rolloutId) => live.TryGetValue(rolloutId, out var s) ? s : null;

    /// <summary>Whether some live rollout takes the token in <paramref name="authorization"/> (the log push's check before it reads a body).</summary>
    public bool AnyTakes(string? authorization)
    {
        bool match = false;
        foreach (var session in live.Values) match |= Matches(session, authorization);
        return match;
    }

    /// <summary>Whether <paramref name="authorization"/> carries this rollout's token, compared in constant time.</summary>
    public static bool Matches(RemoteRolloutSession session, string? authorization)
    {
        var presented = Digest(Bearer(authorization) ?? "");
        return CryptographicOperations.FixedTimeEquals(presented, session.TokenDigest);
    }

    public static string? Bearer(string? authorization) =>
        authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;

    static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>The result of <see cref="RemoteRolloutRegistry.Authorize"/>: the session, or why it was refused.</summary>
public sealed record RolloutAccess(RemoteRolloutSession? Session, string? Refusal);
