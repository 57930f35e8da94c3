using Microsoft.Playwright;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>
/// Debian's headless Chromium (<c>/usr/bin/chromium</c>, or <c>RFT_CHROMIUM</c>) driven by Playwright's
/// .NET driver, with a fresh profile folder and every background fetch of the browser itself off, so the
/// only requests are the page's own (the test checks none leaves the silo's origin).
/// </summary>
public static class Chromium
{
    public static string Executable => Environment.GetEnvironmentVariable("RFT_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    /// <summary>A browser context on a fresh profile (Playwright passes it as --user-data-dir); dispose it, then delete <paramref name="profile"/>.</summary>
    public static async Task<(IPlaywright Playwright, IBrowserContext Context)> LaunchAsync(string profile)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: install Debian's chromium (apt-get install -y chromium; scripts/test.sh does it) or set RFT_CHROMIUM to a Chromium binary.");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        Directory.CreateDirectory(profile);
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = Args,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1700 },
            Timeout = 120_000, // a loaded 2-core machine starts Chromium slowly
        });
        context.SetDefaultTimeout(60_000);
        return (playwright, context);
    }
}
