using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orleans.Rft.Silo.Security;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// HTTPS on Kestrel (<c>Rft:HttpsPort</c> + <c>Rft:HttpsCertificatePath</c>). With it on, the plain HTTP port
/// listens on loopback only: the silo's own judge calls and tools on the machine use it, everything from
/// outside comes over HTTPS.
/// </summary>
public static class RftHttps
{
    public static void Listen(KestrelServerOptions kestrel, RftSiloOptions options, bool anyAddress)
    {
        var certificate = CertificateFiles.LoadWithKey(options.HttpsCertificatePath!, options.HttpsCertificateKeyPath, options.HttpsCertificatePassword, "Rft:HttpsCertificatePath");
        kestrel.ListenLocalhost(options.HttpPort);
        if (anyAddress) kestrel.ListenAnyIP(options.HttpsPort, l => l.UseHttps(certificate));
        else kestrel.ListenLocalhost(options.HttpsPort, l => l.UseHttps(certificate));
    }
}
