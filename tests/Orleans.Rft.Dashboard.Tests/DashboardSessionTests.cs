using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>The login cookie's rules, on a clock the test moves (no silo).</summary>
public sealed class DashboardSessionTests
{
    sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static ApiKeys Keys(params string[] keys) => new(new RftSiloOptions { ApiKeys = [.. keys] });

    [Fact]
    public void ACookieIsDerivedFromTheKeyNotTheKeyAndIsAcceptedUntilItsExpiry()
    {
        var clock = new Clock(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var session = new DashboardSession(Keys("sk-one-abc", "sk-two-def"), clock);
        var cookie = session.Mint("sk-two-def")!;
        Assert.DoesNotContain("sk-two-def", cookie);
        Assert.DoesNotContain("def", cookie.Split('.')[0]);
        Assert.True(session.Accepts(cookie));
        clock.Now += DashboardSession.Lifetime - TimeSpan.FromSeconds(1);
        Assert.True(session.Accepts(cookie));
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.False(session.Accepts(cookie));
    }

    [Fact]
    public void OnlyAnOperatorsKeyLogsInAndRemovingTheKeyEndsItsSessions()
    {
        var keys = Keys("sk-one-abc");
        var session = new DashboardSession(keys);
        Assert.Null(session.Mint("sk-wrong"));
        Assert.Null(session.Mint(keys.Internal!)); // the silo's own key is for its judges, not for a browser
        var cookie = session.Mint("sk-one-abc")!;
        Assert.True(session.Accepts(cookie));
        Assert.True(new DashboardSession(Keys("sk-one-abc")).Accepts(cookie)); // another silo with the same keys
        Assert.False(new DashboardSession(Keys("sk-other-xyz")).Accepts(cookie));
    }

    [Fact]
    public void ATamperedOrMalformedCookieIsRefused()
    {
        var clock = new Clock(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var session = new DashboardSession(Keys("sk-one-abc"), clock);
        var cookie = session.Mint("sk-one-abc")!;
        var (expiry, mac) = (cookie[..cookie.IndexOf('.')], cookie[(cookie.IndexOf('.') + 1)..]);
        Assert.False(session.Accepts($"{long.Parse(expiry) + 3600}.{mac}"));            // a later expiry with the old MAC
        Assert.False(session.Accepts($"{expiry}.{(mac[0] == 'A' ? 'B' : 'A')}{mac[1..]}")); // one character of the MAC changed
        foreach (var bad in new[] { "", ".", "x.y", expiry, $"{expiry}.", $"-1.{mac}", $"{expiry}.{mac}{mac}", new string('1', 500), $"{expiry}.!!!!" })
            Assert.False(session.Accepts(bad), bad);
        // dated further ahead than a login gives: not minted by a silo with this lifetime
        var future = new DashboardSession(Keys("sk-one-abc"), new Clock(clock.Now + TimeSpan.FromDays(30))).Mint("sk-one-abc")!;
        Assert.False(session.Accepts(future));
    }
}
