using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The dashboard's login cookie: a browser cannot send <c>Authorization: Bearer</c> on a page load (nor on
/// an EventSource), so the login page trades an API key for a cookie that stands for it on reads.
/// The value is <c>{expiry}.{HMAC-SHA256(SHA-256(key), purpose|expiry)}</c>: never the key, nor anything
/// a key can be recovered from; any silo with the same keys accepts it (no session store), it ends at
/// its expiry, and removing the key from <c>Rft:ApiKeys</c> ends it at once. The MACs of every key are
/// computed and compared in fixed time, like <see cref="ApiKeys.Accepts"/>. What it opens is limited
/// by <see cref="DashboardAuth"/>: GET/HEAD of the dashboard, /orleans, /metrics and /v1/rft only,
/// so a forged cross-site request (which SameSite=Strict already keeps the cookie off) could change nothing.
/// </summary>
public sealed class DashboardSession(ApiKeys keys, TimeProvider time)
{
    public const string CookieName = "rft_dashboard";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    /// <summary>A cookie dated further ahead than this was not minted here with <see cref="Lifetime"/> (clock skew between silos).</summary>
    static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);
    const string Purpose = "orleans-rft dashboard session v1|";
    /// <summary>Longer values are refused before any parsing.</summary>
    const int MaxCookieChars = 128;

    public DashboardSession(ApiKeys keys) : this(keys, TimeProvider.System) { }

    /// <summary>A cookie value for <paramref name="key"/>, or null when it is not one of the operators' keys (the silo's internal key does not log in).</summary>
    public string? Mint(string key)
    {
        if (keys.OperatorDigest(key) is not { } digest) return null;
        var expires = time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds();
        return expires.ToString(CultureInfo.InvariantCulture) + "." + Base64Url.EncodeToString(Mac(digest, expires));
    }

    public bool Accepts(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > MaxCookieChars) return false;
        var dot = cookie.IndexOf('.');
        if (dot <= 0 || !long.TryParse(cookie.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)) return false;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (expires <= now || expires > now + (long)(Lifetime + Skew).TotalSeconds) return false;
        byte[] presented;
        try { presented = Base64Url.DecodeFromChars(cookie.AsSpan(dot + 1)); }
        catch (FormatException) { return false; }
        if (presented.Length != SHA256.HashSizeInBytes) return false;
        bool match = false;
        foreach (var digest in keys.OperatorDigests) match |= CryptographicOperations.FixedTimeEquals(Mac(digest, expires), presented);
        return match;
    }

    static byte[] Mac(byte[] keyDigest, long expires) =>
        HMACSHA256.HashData(keyDigest, Encoding.UTF8.GetBytes(Purpose + expires.ToString(CultureInfo.InvariantCulture)));
}
