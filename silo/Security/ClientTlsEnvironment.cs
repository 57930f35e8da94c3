namespace Orleans.Rft.Silo.Security;

/// <summary>
/// The console's TLS to a cluster's gateway, from its environment (the console has no configuration file):
/// <c>RFT_TLS_CERTIFICATE</c> (PKCS#12 or PEM; its presence turns TLS on), <c>RFT_TLS_CERTIFICATE_KEY</c>,
/// <c>RFT_TLS_CERTIFICATE_PASSWORD</c>, <c>RFT_TLS_TRUSTED_CERTIFICATE</c> — the same meanings as the silo's
/// <c>Rft:Tls</c> settings.
/// </summary>
public static class ClientTlsEnvironment
{
    public const string Certificate = "RFT_TLS_CERTIFICATE", CertificateKey = "RFT_TLS_CERTIFICATE_KEY",
        CertificatePassword = "RFT_TLS_CERTIFICATE_PASSWORD", TrustedCertificate = "RFT_TLS_TRUSTED_CERTIFICATE";

    /// <summary>The options the environment gives; a named file that does not exist is an <see cref="ArgumentException"/> naming the variable (a usage error).</summary>
    public static RftTlsOptions Read(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => environment(name) is { Length: > 0 } v ? v : null;
        var tls = new RftTlsOptions
        {
            CertificatePath = Get(Certificate), CertificateKeyPath = Get(CertificateKey),
            CertificatePassword = Get(CertificatePassword), TrustedCertificatePath = Get(TrustedCertificate),
        };
        if (tls.CertificatePath is null && (tls.CertificateKeyPath ?? tls.TrustedCertificatePath) is not null)
            throw new ArgumentException($"{CertificateKey} / {TrustedCertificate} are set but {Certificate} is not; the cluster's gateway takes TLS clients with a certificate: set {Certificate} too.");
        foreach (var (name, path) in new[] { (Certificate, tls.CertificatePath), (CertificateKey, tls.CertificateKeyPath), (TrustedCertificate, tls.TrustedCertificatePath) })
            if (path is not null && !File.Exists(path)) throw new ArgumentException($"{name} is '{path}', which does not exist; give the certificate file.");
        if (!tls.Enabled) return tls;
        try { OrleansTls.Load(tls, Certificate, TrustedCertificate).Certificate.Dispose(); }
        catch (InvalidOperationException e) { throw new ArgumentException(e.Message, e); } // a usage error: exit 2, one line
        return tls;
    }
}
