using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Orleans.Rft.Silo.Security;

/// <summary>Turns <see cref="RftTlsOptions"/> into Orleans' TLS connection middleware (Microsoft.Orleans.Connections.Security), for silos and clients alike.</summary>
public static class OrleansTls
{
    /// <summary>TLS on every silo-to-silo and gateway connection of this silo; nothing when <see cref="RftTlsOptions.Enabled"/> is off.</summary>
    public static ISiloBuilder UseRftTls(this ISiloBuilder silo, RftTlsOptions tls)
    {
        if (!tls.Enabled) return silo;
        var (certificate, roots) = Load(tls, "Rft:Tls:CertificatePath", "Rft:Tls:TrustedCertificatePath");
        return silo.UseTls(certificate, o => Configure(o, tls, roots));
    }

    /// <summary>TLS from an Orleans client to the gateway: the same certificate kinds and trust rule as the silos (the console: <see cref="ClientTlsEnvironment"/>).</summary>
    public static IClientBuilder UseRftTls(this IClientBuilder client, RftTlsOptions tls)
    {
        if (!tls.Enabled) return client;
        var (certificate, roots) = Load(tls, ClientTlsEnvironment.Certificate, ClientTlsEnvironment.TrustedCertificate);
        return client.UseTls(certificate, o => Configure(o, tls, roots));
    }

    /// <summary>The certificate and trusted roots; errors name <paramref name="certificateSetting"/> / <paramref name="trustedSetting"/>.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2Collection? Roots) Load(RftTlsOptions tls, string certificateSetting, string trustedSetting) =>
        (CertificateFiles.LoadWithKey(tls.CertificatePath!, tls.CertificateKeyPath, tls.CertificatePassword, certificateSetting),
         tls.TrustedCertificatePath is null ? null : CertificateFiles.LoadTrusted(tls.TrustedCertificatePath, trustedSetting));

    static void Configure(TlsOptions o, RftTlsOptions tls, X509Certificate2Collection? roots)
    {
        // Silo to silo is always mutual (both ends present the cluster's certificate); gateway clients may be let in without one.
        o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        o.ClientCertificateMode = tls.RequireClientCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate;
        o.RemoteCertificateValidation = (certificate, _, errors) =>
            certificate is null ? !tls.RequireClientCertificate : CertificateFiles.IsTrusted(certificate, errors, roots);
        o.HandshakeTimeout = TimeSpan.FromSeconds(15);
    }
}
