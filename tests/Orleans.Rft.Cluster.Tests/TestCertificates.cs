using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Certificates made in the test (CertificateRequest): a CA and leaf certificates it signs, written as the
/// PEM files a Kubernetes TLS secret holds (tls.crt, tls.key, ca.crt) or as a PKCS#12 file.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "orleans-rft-certs", Guid.NewGuid().ToString("N")[..8]);
    readonly RSA caKey = RSA.Create(2048);
    public X509Certificate2 Ca { get; }

    public TestCertificates(string caName = "Orleans.Rft test CA")
    {
        Directory.CreateDirectory(Folder);
        var request = new CertificateRequest($"CN={caName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2)); // outlives every leaf it signs
        File.WriteAllText(CaPath, Ca.ExportCertificatePem());
    }

    public string CaPath => Path.Combine(Folder, "ca.crt");

    /// <summary>A leaf certificate signed by the CA (server and client use, DNS name localhost, IP 127.0.0.1) as PEM certificate + key files.</summary>
    public (string CertificatePath, string KeyPath) IssuePem(string name)
    {
        using var cert = Issue(name);
        var certPath = Path.Combine(Folder, $"{name}.crt");
        var keyPath = Path.Combine(Folder, $"{name}.key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <summary>The same kind of certificate as a password-protected PKCS#12 file.</summary>
    public string IssuePfx(string name, string password)
    {
        using var cert = Issue(name);
        var path = Path.Combine(Folder, $"{name}.pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    X509Certificate2 Issue(string name)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server + client auth
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        using var signed = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return signed.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        Ca.Dispose();
        caKey.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
