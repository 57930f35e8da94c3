using System.Net;
using Orleans.Rft.Cluster.Tests;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>A silo without API keys: the endpoint listens on loopback only, and the browser surfaces are open there.</summary>
public sealed class DashboardOpenHostTests
{
    [Fact]
    public async Task WithoutKeysTheBrowserSurfacesAreOpenAndListenOnLoopbackOnly()
    {
        var root = Path.Combine(Path.GetTempPath(), "orleans-rft-dashboard-open-" + Guid.NewGuid().ToString("N")[..8]);
        await using var host = await HttpHost.StartAsync(new RftSiloOptions { Devices = "cpu", ArtifactsPath = Path.Combine(root, "artifacts") });
        try
        {
            Assert.All(host.Addresses, a => Assert.True(new Uri(a.Replace("[::1]", "localhost")).IsLoopback, a));
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
            foreach (var path in new[] { "/", "/dashboard/app.js", "/dashboard/vendor/uPlot.iife.min.js", "/orleans/", "/metrics", "/v1/rft/jobs" })
            {
                using var response = await http.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
            }
            using var login = await http.GetAsync(DashboardAuth.LoginPath); // nothing to log in to
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            Assert.Equal("/", login.Headers.Location!.OriginalString);
        }
        finally { try { Directory.Delete(root, recursive: true); } catch (IOException) { } }
    }
}
