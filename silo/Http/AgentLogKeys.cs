using System.Security.Cryptography;
using System.Text;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The Bearer keys the remote agents' log push (<c>/logs</c>) accepts besides rollout tokens
/// (<c>Rft:AgentLogKeys</c>). Kept apart from the serving keys (<c>Rft:ApiKeys</c>) on purpose: a log line
/// can end any job's rollout and carry its reward, which someone allowed to call the model must not do.
/// Kept as SHA-256 digests, compared in constant time against every key, like <see cref="ApiKeys"/>.
/// </summary>
public sealed class AgentLogKeys
{
    readonly byte[][] digests;

    public AgentLogKeys(RftSiloOptions options) =>
        digests = options.AgentLogKeys.Select(k => k.Trim()).Distinct().Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    public bool Configured => digests.Length > 0;

    public bool Accepts(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
        bool match = false;
        foreach (var d in digests) match |= CryptographicOperations.FixedTimeEquals(d, presented);
        return match;
    }
}
