using System.Net;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;

namespace Orleans.Rft.Silo;

/// <summary>
/// Kubernetes hosting (Microsoft.Orleans.Hosting.Kubernetes): the silo is named after its pod, advertises the
/// pod IP, labels its pod with the cluster and service ids, and the first silos watch the pods: a deleted pod's
/// silo is declared dead at once (not after missed probes), and a silo declared dead has its pod deleted so the
/// Deployment replaces it. Membership itself stays in Azure Table (Rft:Clustering=azure).
/// </summary>
public static class RftKubernetes
{
    /// <summary>
    /// Whether the silo runs with Kubernetes hosting: <see cref="RftSiloOptions.Kubernetes"/> when set, otherwise
    /// on exactly when the pod's environment says so (the API server's address, which Kubernetes gives every pod,
    /// and the POD_NAMESPACE our manifests pass down) and membership is in Azure Table.
    /// </summary>
    public static bool Enabled(RftSiloOptions options, Func<string, string?>? environment = null)
    {
        if (options.Kubernetes is { } explicitly) return explicitly;
        environment ??= Environment.GetEnvironmentVariable;
        return options.Clustering == "azure"
            && !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST"))
            && !string.IsNullOrEmpty(environment(KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
    }

    /// <summary>Ports as configured, listening on every interface, advertising the pod's IP (POD_IP).</summary>
    public static ISiloBuilder UseRftKubernetesHosting(this ISiloBuilder silo, RftSiloOptions options)
    {
        var podIp = Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable);
        silo.Configure<EndpointOptions>(e =>
        {
            // Set here, not left to the package: Orleans fills the advertised address from the host name before
            // the package's own step runs, which then keeps it (seen outside a pod, where the two differ).
            if (IPAddress.TryParse(podIp, out var ip)) e.AdvertisedIPAddress = ip;
            e.SiloPort = options.SiloPort;
            e.GatewayPort = options.GatewayPort;
            e.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, options.SiloPort);
            e.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, options.GatewayPort);
        });
        // Cluster and service id come from Rft:ClusterId / Rft:ServiceId; the package's ORLEANS_CLUSTER_ID /
        // ORLEANS_SERVICE_ID would override them, so the manifests leave those unset.
        // The package leaves dead silos' pods running by default; deleting them lets the Deployment start fresh ones.
        return silo.UseKubernetesHosting(o => o.Configure(k => k.DeleteDefunctSiloPods = true));
    }
}
