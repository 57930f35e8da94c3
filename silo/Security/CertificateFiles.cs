using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orleans.Rft.Silo.Security;

/// <summary>Loads the certificates TLS options name (PKCS#12 or PEM), failing with the file and the fix, and checks a peer's chain against a trusted root.</summary>
public static class CertificateFiles
{
    /// <summary>A certificate with its private key, from a PKCS#12 file or a PEM certificate (+ key file).</summary>
    public static X509Certificate2 LoadWithKey(string path, string? keyPath, string? password, string setting)
    {
        try
        {
            if (IsPem(path))
            {
                using var pem = password is null
                    ? X509Certificate2.CreateFromPemFile(path, keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
                if (!pem.HasPrivateKey) throw new InvalidOperationException($"{setting} '{path}' has no private key; give the key file too (…KeyPath) or a PKCS#12 file.");
                // SslStream wants a key it can hand to the platform: a PEM key is ephemeral, so go through PKCS#12 once.
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            var cert = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            if (!cert.HasPrivateKey) throw new InvalidOperationException($"{setting} '{path}' has no private key; a TLS endpoint needs the certificate with its key.");
            return cert;
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{setting} '{path}' cannot be read as a certificate with its key ({e.Message}); give a PKCS#12 file with its password, or a PEM certificate and key.", e);
        }
    }

    /// <summary>The trusted roots in a PEM (one or more certificates) or DER file.</summary>
    public static X509Certificate2Collection LoadTrusted(string path, string setting)
    {
        try
        {
            var roots = new X509Certificate2Collection();
            if (IsPem(path)) roots.ImportFromPemFile(path);
            else roots.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            if (roots.Count == 0) throw new InvalidOperationException($"{setting} '{path}' holds no certificate; give the CA certificate in PEM or DER.");
            return roots;
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{setting} '{path}' cannot be read as a certificate ({e.Message}); give the CA certificate in PEM or DER.", e);
        }
    }

    /// <summary>
    /// Whether a peer's certificate is trusted: it chains to one of <paramref name="roots"/> (or, with none, the
    /// platform found no chain error). Name mismatches are ignored: peers are silos addressed by IP.
    /// </summary>
    public static bool IsTrusted(X509Certificate2? certificate, SslPolicyErrors errors, X509Certificate2Collection? roots)
    {
        if (certificate is null) return false;
        if (roots is null) return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no revocation list
        return chain.Build(certificate);
    }

    /// <summary>PEM text has a BEGIN line near the start (after "Bag Attributes" lines when openssl wrote it); PKCS#12 and DER are binary.</summary>
    static bool IsPem(string path)
    {
        Span<byte> head = stackalloc byte[4096];
        using var file = File.OpenRead(path);
        var read = file.Read(head);
        return System.Text.Encoding.ASCII.GetString(head[..read]).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
