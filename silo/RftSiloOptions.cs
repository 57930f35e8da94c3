using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo;

/// <summary>
/// The silo's configuration (section <c>Rft</c> of appsettings.json, or environment variables such as
/// <c>Rft__Clustering=azure</c>). Defaults are the embedded, single-machine setup.
/// </summary>
public sealed class RftSiloOptions
{
    /// <summary><c>localhost</c> (default, single silo or a local test cluster) or <c>azure</c> (Azure Table membership).</summary>
    public string Clustering { get; set; } = "localhost";
    /// <summary><c>memory</c> (default) or <c>azure</c> (Azure Table grain state and reminders).</summary>
    public string Storage { get; set; } = "memory";
    /// <summary><c>local</c> (default: <see cref="ArtifactsPath"/>) or <c>blob</c> (Azure Blob Storage container <see cref="ArtifactsContainer"/>).</summary>
    public string Artifacts { get; set; } = "local";
    public string ArtifactsPath { get; set; } = ".rft/artifacts";
    public string ArtifactsContainer { get; set; } = "rft-artifacts";
    /// <summary>Azure Storage connection string (<c>UseDevelopmentStorage=true</c> for Azurite).</summary>
    public string? AzureStorageConnectionString { get; set; }
    public string ClusterId { get; set; } = "rft";
    public const string DefaultServiceId = "orleans-rft";
    public string ServiceId { get; set; } = DefaultServiceId;
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Devices this silo serves: <c>auto</c>, <c>cpu</c>, <c>cuda:0,cuda:1</c>.</summary>
    public string Devices { get; set; } = "auto";
    /// <summary>
    /// OpenTelemetry collector for metrics and traces (<c>http://collector:4317</c>); unset, the
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is used, and with neither nothing is exported.
    /// </summary>
    public string? OtlpEndpoint { get; set; }
    /// <summary><c>grpc</c> (port 4317, the OTLP default) or <c>http</c> (http/protobuf, port 4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";
    public int MetricsExportIntervalSeconds { get; set; } = 15;
    /// <summary>
    /// Whether job specs may name files on the silo's disk (datasets, models, schema files). Off on a
    /// cluster, where <c>rft submit</c> uploads inputs and silos read only <c>artifact:</c> references;
    /// the embedded <c>rft run</c> silo turns it on.
    /// </summary>
    public bool AllowLocalPaths { get; set; }
    /// <summary>Local cache of blob artifacts, per cluster and service, in MiB; least recently used folders are evicted beyond it.</summary>
    public long ArtifactCacheMiB { get; set; } = 4096;
    /// <summary>Where the blob artifact cache lives (a folder per service and cluster id below it); default the temp folder.</summary>
    public string? ArtifactCachePath { get; set; }
    /// <summary>The largest file one upload may announce, in MiB.</summary>
    public long MaxUploadMiB { get; set; } = 20480;
    /// <summary>
    /// Parameter memory (MiB, per device) of the base models kept loaded for sampling and serving: one
    /// per base model folder (every adapter over it shares it); least recently used idle ones are unloaded past it.
    /// </summary>
    public long ModelHostBudgetMiB { get; set; } = ModelHost.DefaultBudgetMiB;
    /// <summary>Memory (MiB, per device) of the LoRA adapters kept loaded over the served bases; least recently used ones no request holds are unloaded past it.</summary>
    public long AdapterBudgetMiB { get; set; } = ModelHost.DefaultAdapterBudgetMiB;
    /// <summary>KV cache (positions) of each served base model's continuous batch: rows × (longest prompt + max_tokens); a sequence that does not fit waits for rows to leave.</summary>
    public long MaxBatchTokens { get; set; } = RolloutWorkerOptions.DefaultMaxBatchTokens;
    /// <summary>
    /// The interpreter of <c>python</c> evaluators (<c>/usr/bin/python3</c>); unset, the environment's
    /// <c>Rft__Python</c> or <c>python3</c> on PATH. One per process: the last silo started in it sets it.
    /// </summary>
    public string? Python { get; set; }
    /// <summary>
    /// How long a silo told to stop (SIGTERM) waits for its jobs to move their trainer ranks, job grains and
    /// rollouts elsewhere (<c>SiloDrain</c>); 0 stops without a drain, as a crash would (jobs then roll back
    /// to their last checkpoint). The host's shutdown timeout is at least this plus 30 s (<see cref="EffectiveShutdownSeconds"/>).
    /// </summary>
    public int DrainSeconds { get; set; } = 120;
    /// <summary>Port of the OpenAI-compatible HTTP endpoint (<c>/v1/…</c>, <c>/healthz</c>, <c>/readyz</c>); 0 turns it off.</summary>
    public int HttpPort { get; set; } = 8080;
    /// <summary>
    /// The base URL at which remote agents reach this silo's HTTP endpoint (their <c>model_base_url</c> is
    /// <c>{PublicUrl}/rollouts/{rollout_id}/v1</c>); default <c>http://127.0.0.1:{HttpPort}</c>, which only
    /// agents on this machine reach. In a cluster give each silo its own reachable address (a pod IP):
    /// a rollout's calls must reach the silo that runs it.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>The public base URL in effect (<see cref="PublicUrl"/> or loopback on <see cref="HttpPort"/>), without a trailing slash.</summary>
    public string EffectivePublicUrl => (PublicUrl ?? $"http://127.0.0.1:{HttpPort}").TrimEnd('/');
    /// <summary>Where remote agents reach this silo, or (HTTP off) the error that says how to let them.</summary>
    public Agents.Remote.RemoteAgentEndpoint RemoteAgentEndpoint() => HttpPort == 0
        ? new(null, "remote agents call the model back through this silo's HTTP endpoint, which is off (Rft:HttpPort is 0); give Rft:HttpPort a port, and Rft:PublicUrl the address agents reach it at.")
        : new(EffectivePublicUrl, null);

    /// <summary>
    /// Bearer keys the HTTP endpoint accepts. With none (here or in <see cref="ApiKeysFile"/>) it listens
    /// on loopback only. Never logged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore] public string[] ApiKeys { get; set; } = [];
    /// <summary>
    /// Bearer keys the remote agents' log push (<c>/logs</c>, <c>/v1/logs</c>) accepts besides each rollout's
    /// own token: what an Eval Protocol agent server sends as <c>FIREWORKS_API_KEY</c>. Not the serving keys:
    /// a log line ends rollouts and carries their rewards. With no keys here nor in <see cref="ApiKeys"/>, the
    /// loopback-only endpoint takes any log line. Never logged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore] public string[] AgentLogKeys { get; set; } = [];
    /// <summary>A file of API keys, one a line (blank lines and lines starting with '#' skipped).</summary>
    public string? ApiKeysFile { get; set; }
    /// <summary>
    /// Base models served by name: <c>Rft:Models:&lt;name&gt;</c> = a model folder on this silo or an
    /// <c>artifact:</c> reference. Each is also served under its folder's own name.
    /// </summary>
    public Dictionary<string, string> Models { get; set; } = new();
    /// <summary>
    /// Adapter folders served by name (<c>rft serve --adapter NAME=DIR</c>): <c>Rft:Adapters:&lt;name&gt;:Path</c>
    /// and <c>:BaseModel</c> (a name in <see cref="Models"/>; may be left out when only one model is configured).
    /// </summary>
    public Dictionary<string, ServedAdapterOptions> Adapters { get; set; } = new();

    /// <summary>
    /// Port of the endpoint over HTTPS (0, the default: off). With it on, <see cref="HttpPort"/> stays plain HTTP
    /// on loopback only and outside callers use this port; needs <see cref="HttpsCertificatePath"/>.
    /// </summary>
    public int HttpsPort { get; set; }
    /// <summary>Kestrel's certificate: PKCS#12 (<c>.pfx</c>) or PEM (with <see cref="HttpsCertificateKeyPath"/>, or the key in the same file).</summary>
    public string? HttpsCertificatePath { get; set; }
    public string? HttpsCertificateKeyPath { get; set; }
    /// <summary>Password of a PKCS#12 certificate or an encrypted PEM key. Never logged.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string? HttpsCertificatePassword { get; set; }
    /// <summary>TLS on silo-to-silo and gateway connections (<c>Rft:Tls:CertificatePath</c>, …); off by default.</summary>
    public Security.RftTlsOptions Tls { get; set; } = new();
    /// <summary>
    /// Kubernetes hosting (pod names as silo names, pod IP advertised, dead silos' pods deleted and deleted pods'
    /// silos declared dead): <c>true</c>, <c>false</c>, or unset to detect it (a pod's environment with
    /// <c>POD_NAMESPACE</c> set, and Azure Table clustering). See <see cref="RftKubernetes"/>.
    /// </summary>
    public bool? Kubernetes { get; set; }
    /// <summary>
    /// How long a stopping silo may take (SIGTERM to exit: in-flight requests, hand-over of its grains), in
    /// seconds; the host's shutdown timeout. A Kubernetes pod's terminationGracePeriodSeconds must exceed it.
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = DefaultShutdownTimeoutSeconds;
    /// <summary>.NET's own default host shutdown timeout.</summary>
    public const int DefaultShutdownTimeoutSeconds = 30;
    /// <summary>
    /// The host's shutdown timeout in effect: <see cref="ShutdownTimeoutSeconds"/>, raised to the drain
    /// (<see cref="DrainSeconds"/>) plus 30 s for Orleans to hand over its grains and stop, so a drain is never cut short
    /// by the host. A Kubernetes pod's terminationGracePeriodSeconds must exceed this.
    /// </summary>
    public int EffectiveShutdownSeconds => Math.Max(ShutdownTimeoutSeconds, DrainSeconds + 30);

    /// <summary>Fails fast, naming the setting and the fix.</summary>
    public void Validate()
    {
        static void OneOf(string name, string value, params string[] allowed)
        {
            if (!allowed.Contains(value)) throw new InvalidOperationException($"Rft:{name} is '{value}'; use one of {string.Join(", ", allowed)}.");
        }
        OneOf(nameof(Clustering), Clustering, "localhost", "azure");
        OneOf(nameof(Storage), Storage, "memory", "azure");
        OneOf(nameof(Artifacts), Artifacts, "local", "blob");
        if ((Clustering == "azure" || Storage == "azure" || Artifacts == "blob") && string.IsNullOrWhiteSpace(AzureStorageConnectionString))
            throw new InvalidOperationException("Rft:AzureStorageConnectionString isn't configured; Azure clustering, storage and blob artifacts need it (UseDevelopmentStorage=true for Azurite).");
        OneOf(nameof(OtlpProtocol), OtlpProtocol, "grpc", "http");
        if (ModelHostBudgetMiB < 1) throw new InvalidOperationException($"Rft:{nameof(ModelHostBudgetMiB)} is {ModelHostBudgetMiB}; give the MiB of parameters a device may keep loaded for sampling (default {ModelHost.DefaultBudgetMiB}).");
        if (AdapterBudgetMiB < 1) throw new InvalidOperationException($"Rft:{nameof(AdapterBudgetMiB)} is {AdapterBudgetMiB}; give the MiB of LoRA adapters a device may keep loaded (default {ModelHost.DefaultAdapterBudgetMiB}).");
        if (DrainSeconds is < 0 or > 3600) throw new InvalidOperationException($"Rft:{nameof(DrainSeconds)} is {DrainSeconds}; give the seconds a stopping silo waits for its jobs to move off it, 0 to 3600 (default 120; 0 = no drain).");
        if (MaxBatchTokens < 1) throw new InvalidOperationException($"Rft:{nameof(MaxBatchTokens)} is {MaxBatchTokens}; give the KV-cache positions of a device's continuous batch (default {RolloutWorkerOptions.DefaultMaxBatchTokens}).");
        if (!string.IsNullOrEmpty(OtlpEndpoint) && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var otlp) && otlp.Scheme is "http" or "https"))
            throw new InvalidOperationException($"Rft:OtlpEndpoint is '{Orleans.Rft.GrainInterfaces.Secrets.Redact(OtlpEndpoint)}'; use an http(s) URL such as http://otel-collector:4317.");
        if (ArtifactCacheMiB < 1) throw new InvalidOperationException($"Rft:ArtifactCacheMiB is {ArtifactCacheMiB}; give the blob artifact cache at least 1 MiB (default 4096).");
        if (MaxUploadMiB < 1) throw new InvalidOperationException($"Rft:MaxUploadMiB is {MaxUploadMiB}; allow uploads of at least 1 MiB (default 20480).");
        if (MetricsExportIntervalSeconds < 1) throw new InvalidOperationException("Rft:MetricsExportIntervalSeconds must be ≥ 1.");
        if (HttpPort is < 0 or > 65535) throw new InvalidOperationException($"Rft:HttpPort is {HttpPort}; give a TCP port (default 8080) or 0 to turn the HTTP endpoint off.");
        if (PublicUrl is not null && !(Uri.TryCreate(PublicUrl, UriKind.Absolute, out var pub) && pub.Scheme is "http" or "https" && pub.Query.Length == 0))
            throw new InvalidOperationException($"Rft:PublicUrl is '{PublicUrl}'; give the http(s) base URL remote agents reach this silo at, such as http://10.0.0.5:8080 (no query).");
        if (ApiKeysFile is not null && !File.Exists(ApiKeysFile)) throw new InvalidOperationException($"Rft:ApiKeysFile '{ApiKeysFile}' does not exist; give a file of API keys, one a line.");
        if (ApiKeys.Any(string.IsNullOrWhiteSpace)) throw new InvalidOperationException("Rft:ApiKeys holds an empty key; remove it or give a non-empty key.");
        if (AgentLogKeys.Any(string.IsNullOrWhiteSpace)) throw new InvalidOperationException("Rft:AgentLogKeys holds an empty key; remove it or give a non-empty key.");
        foreach (var (name, path) in Models)
            if (string.IsNullOrWhiteSpace(path)) throw new InvalidOperationException($"Rft:Models:{name} is empty; give a model folder or an artifact: reference.");
        foreach (var (name, adapter) in Adapters)
        {
            if (string.IsNullOrWhiteSpace(adapter.Path)) throw new InvalidOperationException($"Rft:Adapters:{name}:Path is empty; give the adapter's folder (adapter_config.json + adapter_model.safetensors).");
            if (adapter.BaseModel is null ? Models.Count != 1 : !Models.ContainsKey(adapter.BaseModel))
                throw new InvalidOperationException($"Rft:Adapters:{name}:BaseModel is '{adapter.BaseModel}'; name one of Rft:Models ({string.Join(", ", Models.Keys)}).");
        }
        if (SiloPort is < 1 or > 65535 || GatewayPort is < 1 or > 65535) throw new InvalidOperationException("Rft:SiloPort and Rft:GatewayPort must be TCP ports.");
        if (HttpsPort != 0)
        {
            if (HttpsPort is < 0 or > 65535) throw new InvalidOperationException($"Rft:HttpsPort is {HttpsPort}; give a TCP port, or 0 to leave HTTPS off.");
            if (HttpPort == 0 || HttpsPort == HttpPort) throw new InvalidOperationException($"Rft:HttpsPort is {HttpsPort} and Rft:HttpPort {HttpPort}; HTTPS needs the HTTP endpoint on (Rft:HttpPort > 0) and a port of its own.");
            if (string.IsNullOrWhiteSpace(HttpsCertificatePath)) throw new InvalidOperationException("Rft:HttpsPort is set but Rft:HttpsCertificatePath is not; give the server certificate (PKCS#12 or PEM).");
        }
        if (HttpsCertificatePath is not null && !File.Exists(HttpsCertificatePath)) throw new InvalidOperationException($"Rft:HttpsCertificatePath '{HttpsCertificatePath}' does not exist; give a PKCS#12 (.pfx) or PEM certificate file.");
        if (HttpsCertificateKeyPath is not null && !File.Exists(HttpsCertificateKeyPath)) throw new InvalidOperationException($"Rft:HttpsCertificateKeyPath '{HttpsCertificateKeyPath}' does not exist; give the PEM private key of Rft:HttpsCertificatePath.");
        if (HttpsCertificatePath is not null)
            Security.CertificateFiles.LoadWithKey(HttpsCertificatePath, HttpsCertificateKeyPath, HttpsCertificatePassword, "Rft:HttpsCertificatePath").Dispose(); // a wrong password fails at start
        if (HttpsCertificatePath is not null && HttpsPort == 0) throw new InvalidOperationException("Rft:HttpsCertificatePath is set but Rft:HttpsPort is 0; give the HTTPS port (e.g. 8443), or remove the certificate setting.");
        Tls.Validate();
        if (Kubernetes == true && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")))
            throw new InvalidOperationException("Rft:Kubernetes is on, but this process is not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset, so the API server cannot be reached); leave Rft:Kubernetes unset or false outside Kubernetes.");
        if (Kubernetes == true && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POD_IP")) && !System.Net.IPAddress.TryParse(Environment.GetEnvironmentVariable("POD_IP"), out _))
            throw new InvalidOperationException($"POD_IP is '{Environment.GetEnvironmentVariable("POD_IP")}', not an IP address; pass the pod's status.podIP through the downward API.");
        if (Kubernetes == true && Clustering != "azure") throw new InvalidOperationException($"Rft:Kubernetes is on with Rft:Clustering '{Clustering}'; Kubernetes hosting keeps membership in Azure Table: set Rft:Clustering=azure.");
        if (ShutdownTimeoutSeconds < 1) throw new InvalidOperationException($"Rft:ShutdownTimeoutSeconds is {ShutdownTimeoutSeconds}; give the seconds a stopping silo may take (default {DefaultShutdownTimeoutSeconds}).");
    }
}

/// <summary>An adapter folder served under a name (<c>Rft:Adapters:&lt;name&gt;</c>).</summary>
public sealed class ServedAdapterOptions
{
    /// <summary>The adapter folder on this silo, or a store path / <c>artifact:</c> reference.</summary>
    public string Path { get; set; } = "";
    /// <summary>The name of its base model in <c>Rft:Models</c>; optional when only one is configured.</summary>
    public string? BaseModel { get; set; }
}
