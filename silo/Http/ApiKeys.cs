using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The Bearer keys the endpoint accepts (<c>Rft:ApiKeys</c> and the lines of <c>Rft:ApiKeysFile</c>).
/// Keys are kept as SHA-256 digests and compared with <see cref="CryptographicOperations.FixedTimeEquals"/>
/// against every key, so neither a key's content nor its length shows in the time a refusal takes.
/// </summary>
public sealed class ApiKeys
{
    readonly byte[][] digests;
    readonly byte[]? internalDigest;

    public ApiKeys(RftSiloOptions options)
    {
        var keys = options.ApiKeys.Select(k => k.Trim()).ToList();
        if (options.ApiKeysFile is string file)
            keys.AddRange(File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        digests = keys.Distinct().Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
        if (digests.Length == 0) return;
        // The silo's own callers (a judge without base_url) use a key minted here, so no operator's key
        // has to be handed to the grains; it lives in this process only and is never logged.
        Internal = "rft-internal-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        internalDigest = SHA256.HashData(Encoding.UTF8.GetBytes(Internal));
    }

    /// <summary>A key for calls from inside this silo; null when the endpoint takes no keys.</summary>
    public string? Internal { get; }

    /// <summary>With no keys the endpoint is open, and listens on loopback only.</summary>
    public bool Required => digests.Length > 0;
    public int Count => digests.Length;

    public bool Accepts(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
        bool match = false;
        foreach (var d in digests) match |= CryptographicOperations.FixedTimeEquals(d, presented);
        if (internalDigest is not null) match |= CryptographicOperations.FixedTimeEquals(internalDigest, presented);
        return match;
    }

    /// <summary>The operators' keys' digests (not the internal key): what a dashboard login cookie is derived from (<see cref="DashboardSession"/>).</summary>
    internal IReadOnlyList<byte[]> OperatorDigests => digests;

    /// <summary>The digest of <paramref name="key"/> when it is one of the operators' keys (compared in fixed time against every key), else null.</summary>
    internal byte[]? OperatorDigest(string key)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(key.Trim()));
        byte[]? found = null;
        foreach (var d in digests) if (CryptographicOperations.FixedTimeEquals(d, presented)) found = d;
        return found;
    }

    /// <summary>An endpoint filter: a request without an accepted key (or, for the dashboard's reads of /v1/rft, its login cookie: <see cref="DashboardAuth"/>) gets OpenAI's 401.</summary>
    public static ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = context.HttpContext.RequestServices.GetService(typeof(ApiKeys)) as ApiKeys;
        if (keys is null || !keys.Required || keys.Accepts(context.HttpContext.Request.Headers.Authorization) || DashboardAuth.SessionOpens(context.HttpContext)) return next(context);
        var error = new OpenAIError(StatusCodes.Status401Unauthorized,
            "Missing or incorrect API key: send 'Authorization: Bearer <key>' with a key from the silo's Rft:ApiKeys.", null, "invalid_request_error", "invalid_api_key");
        return ValueTask.FromResult<object?>(error.ToResult());
    }
}
