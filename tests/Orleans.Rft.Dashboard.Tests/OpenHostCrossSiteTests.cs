using System.Net;
using System.Text;
using Orleans.Rft.Cluster.Tests;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>
/// A silo without API keys is open on loopback, but not to the web pages a user has open: a cross-site
/// POST (no CORS permission needed to send it) must not reach the jobs API, and a page rebound to
/// 127.0.0.1 (its own name in Host) must not read it. Clients that are not pages (no Origin, no
/// Sec-Fetch-Site) and the dashboard's own same-origin requests work as before.
/// </summary>
public sealed class OpenHostCrossSiteTests
{
    [Fact]
    public async Task WithoutKeysCrossSiteWritesAndRebindingHostsAreRefusedWhileLocalClientsWork()
    {
        var root = Path.Combine(Path.GetTempPath(), "orleans-rft-open-xsite-" + Guid.NewGuid().ToString("N")[..8]);
        await using var host = await HttpHost.StartAsync(new RftSiloOptions { Devices = "cpu", ArtifactsPath = Path.Combine(root, "artifacts") });
        try
        {
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
            async Task<(HttpStatusCode, string)> Send(HttpMethod method, string path, params (string Name, string Value)[] headers)
            {
                using var request = new HttpRequestMessage(method, path);
                if (method == HttpMethod.Post) request.Content = new StringContent("{}", Encoding.UTF8, "text/plain");
                foreach (var (name, value) in headers)
                    if (name == "Host") request.Headers.Host = value; else request.Headers.TryAddWithoutValidation(name, value);
                using var response = await http.SendAsync(request);
                return (response.StatusCode, await response.Content.ReadAsStringAsync());
            }

            // another site's page: a no-cors POST that would cancel a job, and one that would submit
            var (status, body) = await Send(HttpMethod.Post, "/v1/rft/jobs/some-job:cancel", ("Origin", "https://attacker.example"), ("Sec-Fetch-Site", "cross-site"));
            Assert.True(status == HttpStatusCode.Forbidden && body.Contains("cross_site_request"), $"{status}: {body}");
            (status, body) = await Send(HttpMethod.Post, "/v1/rft/jobs", ("Origin", "https://attacker.example"));
            Assert.True(status == HttpStatusCode.Forbidden && body.Contains("cross_site_request"), $"{status}: {body}");
            // a rebound page reads with its own name as Host
            (status, body) = await Send(HttpMethod.Get, "/v1/rft/jobs", ("Host", $"rebound.attacker.example:{host.Options.HttpPort}"));
            Assert.True(status == HttpStatusCode.Forbidden && body.Contains("host_not_loopback"), $"{status}: {body}");

            // not a page (curl, the console): reaches the route (an unknown job's 404)
            (status, body) = await Send(HttpMethod.Post, "/v1/rft/jobs/some-job:cancel");
            Assert.True(status == HttpStatusCode.NotFound && body.Contains("job_not_found"), $"{status}: {body}");
            // the dashboard's own page, and every loopback name
            (status, body) = await Send(HttpMethod.Post, "/v1/rft/jobs/some-job:cancel", ("Origin", $"http://127.0.0.1:{host.Options.HttpPort}"), ("Sec-Fetch-Site", "same-origin"));
            Assert.True(status == HttpStatusCode.NotFound, $"{status}: {body}");
            foreach (var name in new[] { "localhost", "127.0.0.1", "[::1]" })
            {
                (status, body) = await Send(HttpMethod.Get, "/v1/rft/jobs", ("Host", $"{name}:{host.Options.HttpPort}"));
                Assert.True(status == HttpStatusCode.OK, $"Host {name}: {status}: {body}");
            }
        }
        finally { try { Directory.Delete(root, recursive: true); } catch (IOException) { } }
    }
}
