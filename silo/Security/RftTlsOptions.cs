using System.Text.Json.Serialization;

namespace Orleans.Rft.Silo.Security;

/// <summary>
/// TLS on the Orleans connections (<c>Rft:Tls</c>): silo to silo and the gateway's clients. Off unless
/// <see cref="CertificatePath"/> is set. Every silo presents its certificate to every peer and checks the
/// peer's against <see cref="TrustedCertificatePath"/> (or the system's trust store): mutual TLS, so a
/// process without a trusted certificate can neither join the cluster nor call the gateway
/// (unless <see cref="RequireClientCertificate"/> is off).
/// </summary>
public sealed class RftTlsOptions
{
    /// <summary>This process's certificate: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>) or a PEM certificate with <see cref="CertificateKeyPath"/>.</summary>
    public string? CertificatePath { get; set; }
    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/> (a Kubernetes TLS secret's <c>tls.key</c>); unset, the key is read from the certificate file itself.</summary>
    public string? CertificateKeyPath { get; set; }
    /// <summary>The password of a PKCS#12 certificate or of an encrypted PEM key. Never logged.</summary>
    [JsonIgnore] public string? CertificatePassword { get; set; }
    /// <summary>
    /// The CA (or the self-signed certificate itself) that peers' certificates must chain to (PEM or DER; a
    /// Kubernetes TLS secret's <c>ca.crt</c>). Unset, the system's trust store decides. Host names are not
    /// checked: silos are addressed by IP, so trust comes from the chain.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }
    /// <summary>Whether gateway clients (the console, client apps) must present a trusted certificate too (default on).</summary>
    public bool RequireClientCertificate { get; set; } = true;

    [JsonIgnore] public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Fails fast, naming the setting and the fix. <paramref name="prefix"/> names where these came from (<c>Rft:Tls</c>, or the console's environment variables).</summary>
    public void Validate(string prefix = "Rft:Tls")
    {
        if (!Enabled)
        {
            if (CertificateKeyPath is not null || TrustedCertificatePath is not null)
                throw new InvalidOperationException($"{prefix}:CertificateKeyPath / TrustedCertificatePath are set but {prefix}:CertificatePath is not; give the certificate (PKCS#12 or PEM) to turn TLS on, or remove them.");
            return;
        }
        if (!File.Exists(CertificatePath)) throw new InvalidOperationException($"{prefix}:CertificatePath '{CertificatePath}' does not exist; give a PKCS#12 (.pfx) or PEM certificate file.");
        if (CertificateKeyPath is not null && !File.Exists(CertificateKeyPath)) throw new InvalidOperationException($"{prefix}:CertificateKeyPath '{CertificateKeyPath}' does not exist; give the PEM private key of the certificate.");
        if (TrustedCertificatePath is not null && !File.Exists(TrustedCertificatePath)) throw new InvalidOperationException($"{prefix}:TrustedCertificatePath '{TrustedCertificatePath}' does not exist; give the CA certificate (PEM or DER) that peers' certificates chain to.");
        OrleansTls.Load(this, $"{prefix}:CertificatePath", $"{prefix}:TrustedCertificatePath").Certificate.Dispose(); // a wrong password or format fails here, at start, not on the first connection
    }
}
