using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Security;
using Orleans.Runtime;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Transport security with certificates made in the test: HTTPS on the silo's endpoint (Rft:HttpsPort), and
/// TLS on the Orleans connections (Rft:Tls) between two silos on real TCP sockets and from clients to the gateway.
/// </summary>
public sealed class TransportSecurityTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    readonly TestCertificates certificates = new();
    readonly string root = Path.Combine(Path.GetTempPath(), "orleans-rft-tls-tests", Guid.NewGuid().ToString("N")[..8]);

    /// <summary>A silo with a key and HTTPS on a free port, its certificate (PKCS#12) issued by the test CA.</summary>
    RftSiloOptions HttpsOptions() => new()
    {
        Devices = "cpu", ArtifactsPath = root, ApiKeys = ["test-key"], HttpsPort = ClusterConnection.FreePort(),
        HttpsCertificatePath = certificates.IssuePfx("https", "pfx-password"), HttpsCertificatePassword = "pfx-password",
    };

    [Fact]
    public async Task Https_serves_healthz_with_the_configured_certificate_while_plain_http_stays_on_loopback()
    {
        var options = HttpsOptions();
        await using var host = await HttpHost.StartAsync(options);
        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : new X509Certificate2(certificate);
                return certificate is not null && ChainsToTestCa(certificate);
            },
        };
        using var https = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var response = await https.GetAsync($"https://localhost:{options.HttpsPort}/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"ok\"", await response.Content.ReadAsStringAsync());
        Assert.Equal("CN=https", presented?.Subject);
        // With keys, HTTPS listens on every address; plain HTTP only on loopback (the silo's own judge calls use it).
        Assert.All(host.Addresses.Where(a => a.StartsWith("http://", StringComparison.Ordinal)), a => Assert.Contains("localhost", a));
        Assert.Contains(host.Addresses, a => a.StartsWith("https://", StringComparison.Ordinal) && !a.Contains("localhost", StringComparison.Ordinal));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{options.HttpPort}/healthz")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_login_cookie_is_marked_secure_over_https_and_sent_on_loopback_http_without_it()
    {
        var options = HttpsOptions();
        await using var host = await HttpHost.StartAsync(options);
        async Task<string> LoginCookie(string baseUrl)
        {
            using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false, ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && ChainsToTestCa(c) };
            using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
            using var login = await client.PostAsync($"{baseUrl}{Orleans.Rft.Silo.Http.DashboardAuth.LoginPath}", new FormUrlEncodedContent([new("key", "test-key")]));
            Assert.True(login.StatusCode == HttpStatusCode.Redirect, $"{baseUrl}: login {login.StatusCode}");
            return login.Headers.GetValues("Set-Cookie").Single();
        }
        var overHttps = await LoginCookie($"https://localhost:{options.HttpsPort}");
        Assert.Contains("; secure", overHttps, StringComparison.OrdinalIgnoreCase); // never sent in clear afterwards
        var overLoopback = await LoginCookie($"http://127.0.0.1:{options.HttpPort}");
        Assert.DoesNotContain("; secure", overLoopback, StringComparison.OrdinalIgnoreCase); // a browser on the machine itself keeps it over plain HTTP
    }

    [Fact]
    public void A_wrong_certificate_password_or_a_missing_file_fails_validation_naming_the_setting()
    {
        var pfx = certificates.IssuePfx("https", "right");
        var wrong = new RftSiloOptions { HttpsPort = 8443, HttpsCertificatePath = pfx, HttpsCertificatePassword = "wrong" };
        Assert.Contains("Rft:HttpsCertificatePath", Assert.Throws<InvalidOperationException>(wrong.Validate).Message);
        var missing = new RftSiloOptions { Tls = { CertificatePath = Path.Combine(root, "none.pem") } };
        Assert.Contains("Rft:Tls:CertificatePath", Assert.Throws<InvalidOperationException>(missing.Validate).Message);
        var noPort = new RftSiloOptions { HttpsCertificatePath = pfx, HttpsCertificatePassword = "right" };
        Assert.Contains("Rft:HttpsPort", Assert.Throws<InvalidOperationException>(noPort.Validate).Message);
        // the console: a usage error (exit 2) naming the variable
        var error = Assert.Throws<ArgumentException>(() => ClientTlsEnvironment.Read(name => name == ClientTlsEnvironment.Certificate ? pfx : name == ClientTlsEnvironment.CertificatePassword ? "wrong" : null));
        Assert.Contains(ClientTlsEnvironment.Certificate, error.Message);
    }

    [Fact]
    public async Task Two_silos_join_over_mutual_tls_and_only_a_client_with_a_certificate_of_the_cluster_ca_connects()
    {
        var (siloCert, siloKey) = certificates.IssuePem("silo");
        RftSiloOptions SiloOptions() => new()
        {
            Devices = "cpu", ArtifactsPath = root, HttpPort = 0, SiloPort = ClusterConnection.FreePort(), GatewayPort = ClusterConnection.FreePort(),
            ClusterId = "tls-" + Guid.NewGuid().ToString("N")[..8],
            Tls = { CertificatePath = siloCert, CertificateKeyPath = siloKey, TrustedCertificatePath = certificates.CaPath },
        };
        var first = SiloOptions();
        var second = SiloOptions();
        second.ClusterId = first.ClusterId;
        using var primary = await StartSilo(first, primaryPort: null);
        using var secondary = await StartSilo(second, primaryPort: first.SiloPort);
        output.WriteLine($"{clock.Elapsed}: two silos started");

        var (clientCert, clientKey) = certificates.IssuePem("console");
        using (var client = await StartClient(first, new RftTlsOptions { CertificatePath = clientCert, CertificateKeyPath = clientKey, TrustedCertificatePath = certificates.CaPath }))
        {
            var management = client.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            var deadline = DateTime.UtcNow.AddSeconds(60); // the second silo's join is seen by the first within a membership refresh
            Dictionary<SiloAddress, SiloStatus> hosts;
            while ((hosts = await management.GetHosts(onlyActive: true)).Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(250);
            Assert.Equal(2, hosts.Count);
            output.WriteLine($"{clock.Elapsed}: the client sees both silos");
            await client.StopAsync();
        }

        using var otherCa = new TestCertificates("another CA");
        var (strangerCert, strangerKey) = otherCa.IssuePem("stranger");
        await Task.WhenAll(
            AssertRefused(first, new RftTlsOptions { CertificatePath = strangerCert, CertificateKeyPath = strangerKey, TrustedCertificatePath = certificates.CaPath }, "a client whose certificate another CA signed"),
            AssertRefused(first, new RftTlsOptions(), "a client without TLS"));
        await secondary.StopAsync();
        await primary.StopAsync();
    }

    /// <summary>
    /// A refused client does not fail fast: the Orleans client keeps retrying the gateway. So the attempt gets a
    /// bound (the trusted client above connects in about a second on this machine): failing or still not
    /// connected when it ends both count as refused; connecting is the failure.
    /// </summary>
    async Task AssertRefused(RftSiloOptions silo, RftTlsOptions tls, string who)
    {
        using var limit = new CancellationTokenSource(RefusalWindow);
        try
        {
            using var connected = await StartClient(silo, tls, limit.Token);
            throw new Xunit.Sdk.XunitException($"{who} connected to a gateway that requires the cluster's certificate");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            output.WriteLine($"{clock.Elapsed}: {who}: refused ({e.GetType().Name})");
        }
    }

    static readonly TimeSpan RefusalWindow = TimeSpan.FromSeconds(15);

    static async Task<IHost> StartSilo(RftSiloOptions options, int? primaryPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.AddRft(options, configureClustering: false);
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, primaryPort is { } p ? new IPEndPoint(IPAddress.Loopback, p) : null, options.ServiceId, options.ClusterId);
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return host;
    }

    static async Task<IHost> StartClient(RftSiloOptions silo, RftTlsOptions tls, CancellationToken cancellation = default)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(silo.GatewayPort, silo.ServiceId, silo.ClusterId);
            client.UseRftTls(tls);
        });
        var host = builder.Build();
        try { await host.StartAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(60), cancellation); }
        catch { host.Dispose(); throw; }
        return host;
    }

    bool ChainsToTestCa(X509Certificate certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificates.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }

    public void Dispose()
    {
        certificates.Dispose();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
