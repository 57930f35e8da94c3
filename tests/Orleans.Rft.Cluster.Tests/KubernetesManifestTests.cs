using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The Kubernetes manifests (infra/k8s) checked against the code, since no cluster is reachable here:
/// each overlay is rendered with <c>kubectl kustomize</c>, every silo container's environment is rebuilt
/// the way the kubelet would (ConfigMap, downward API, Secret keys, mounted files), bound into
/// <see cref="RftSiloOptions"/> and validated by the silo's own <see cref="RftSiloOptions.Validate"/>.
/// </summary>
public sealed class KubernetesManifestTests
{
    static readonly string Repo = Repository.Root;
    static string K8s => Path.Combine(Repo, "infra", "k8s");

    /// <summary>The kubernetes.io/tls Secret the tls component mounts (cert-manager's keys): made outside the kustomizations.</summary>
    static readonly string[] TlsSecretKeys = ["tls.crt", "tls.key", "ca.crt"];

    /// <summary>Environment variables the silo reads that are not Rft options: Microsoft.Orleans.Hosting.Kubernetes' own.</summary>
    static readonly string[] KubernetesHostingVariables =
        [KubernetesHostingOptions.PodNameEnvironmentVariable, KubernetesHostingOptions.PodNamespaceEnvironmentVariable, KubernetesHostingOptions.PodIPEnvironmentVariable];

    [KubectlFact]
    public void Every_env_var_of_every_overlay_binds_to_a_silo_option_and_the_result_validates()
    {
        foreach (var (overlay, rendered) in RenderAll())
            foreach (var (deployment, pod) in Pods(rendered))
            {
                using var environment = PodEnvironment.Build(rendered, pod);
                var where = $"{overlay}: Deployment {deployment.Name()}";
                foreach (var name in environment.Variables.Keys)
                    Assert.True(name.StartsWith("Rft__", StringComparison.Ordinal) || KubernetesHostingVariables.Contains(name),
                        $"{where} sets {name}, which is neither an Rft__ silo option nor a variable Microsoft.Orleans.Hosting.Kubernetes reads");
                var options = Bind(environment.Variables, where);
                var error = Record.Exception(() => InPod(options.Validate));
                Assert.True(error is null, $"{where}: the silo rejects this configuration: {error?.Message}");
                Assert.True(RftKubernetes.Enabled(options, v => v == "KUBERNETES_SERVICE_HOST" ? "10.96.0.1" : environment.Variables.GetValueOrDefault(v)),
                    $"{where}: Kubernetes hosting would be off");
                if (overlay.EndsWith("+tls", StringComparison.Ordinal)) Assert.True(options.Tls.Enabled, $"{where}: the tls component did not turn Rft:Tls on");
            }
    }

    [KubectlFact]
    public void Container_ports_service_ports_and_pod_labels_match_the_silo_configuration()
    {
        foreach (var (overlay, rendered) in RenderAll())
        {
            var pods = Pods(rendered).ToList();
            foreach (var (deployment, pod) in pods)
            {
                using var environment = PodEnvironment.Build(rendered, pod);
                var options = Bind(environment.Variables, $"{overlay}: {deployment.Name()}");
                var where = $"{overlay}: Deployment {deployment.Name()}";
                var ports = Container(pod)["ports"].Items().ToDictionary(p => (string)p["name"]!, p => int.Parse((string)p["containerPort"]!));
                Assert.True(ports.GetValueOrDefault("http") == options.HttpPort, $"{where}: container port 'http' is {ports.GetValueOrDefault("http")}, Rft:HttpPort {options.HttpPort}");
                Assert.True(ports.GetValueOrDefault("silo") == options.SiloPort, $"{where}: container port 'silo' is {ports.GetValueOrDefault("silo")}, Rft:SiloPort {options.SiloPort}");
                Assert.True(ports.GetValueOrDefault("gateway") == options.GatewayPort, $"{where}: container port 'gateway' is {ports.GetValueOrDefault("gateway")}, Rft:GatewayPort {options.GatewayPort}");
                var labels = pod["metadata"]!["labels"]!.AsObject();
                Assert.True((string?)labels[KubernetesHostingOptions.ClusterIdLabel] == options.ClusterId, $"{where}: pod label {KubernetesHostingOptions.ClusterIdLabel} is '{labels[KubernetesHostingOptions.ClusterIdLabel]}', Rft:ClusterId '{options.ClusterId}'");
                Assert.True((string?)labels[KubernetesHostingOptions.ServiceIdLabel] == options.ServiceId, $"{where}: pod label {KubernetesHostingOptions.ServiceIdLabel} is '{labels[KubernetesHostingOptions.ServiceIdLabel]}', Rft:ServiceId '{options.ServiceId}'");
                var grace = int.Parse((string)pod["spec"]!["terminationGracePeriodSeconds"]!);
                Assert.True(grace > options.EffectiveShutdownSeconds, $"{where}: terminationGracePeriodSeconds {grace} is not above the silo's shutdown timeout {options.EffectiveShutdownSeconds} s (Rft:ShutdownTimeoutSeconds, at least Rft:DrainSeconds + 30): the kubelet would kill a draining silo");
                foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                {
                    var port = (string?)Container(pod)[probe]?["httpGet"]?["port"];
                    Assert.True(port is not null && ports.ContainsKey(port), $"{where}: {probe} probes port '{port}', which the container does not name");
                }
            }
            foreach (var service in rendered.OfKind("Service"))
            {
                var selected = pods.Where(p => Matches(service["spec"]!["selector"], p.Pod)).ToList();
                Assert.True(selected.Count > 0, $"{overlay}: Service {service.Name()} selects no silo pod");
                foreach (var port in service["spec"]!["ports"].Items())
                {
                    var target = (string)port["targetPort"]!;
                    Assert.All(selected, p => Assert.True(Container(p.Pod)["ports"].Items().Any(c => (string?)c["name"] == target),
                        $"{overlay}: Service {service.Name()} targets port '{target}', which Deployment {p.Deployment.Name()} does not name"));
                }
            }
            var budget = rendered.OfKind("PodDisruptionBudget").Single();
            Assert.All(pods, p => Assert.True(Matches(budget["spec"]!["selector"]!["matchLabels"], p.Pod), $"{overlay}: the PodDisruptionBudget does not cover Deployment {p.Deployment.Name()}"));
        }
    }

    [KubectlFact]
    public void The_silos_service_account_may_get_list_watch_patch_and_delete_pods()
    {
        foreach (var (overlay, rendered) in RenderAll())
            foreach (var (deployment, pod) in Pods(rendered))
            {
                var account = (string)pod["spec"]!["serviceAccountName"]!;
                rendered.Named("ServiceAccount", account);
                var bindings = rendered.OfKind("RoleBinding").Where(b => b["subjects"].Items().Any(s => (string?)s["kind"] == "ServiceAccount" && (string?)s["name"] == account)).ToList();
                var verbs = bindings.Select(b => rendered.Named("Role", (string)b["roleRef"]!["name"]!))
                    .SelectMany(r => r["rules"].Items()).Where(r => r["resources"]!.AsArray().Any(x => (string?)x == "pods"))
                    .SelectMany(r => r["verbs"]!.AsArray().Select(v => (string)v!)).ToHashSet();
                foreach (var verb in new[] { "get", "list", "watch", "patch", "delete" })
                    Assert.True(verbs.Contains(verb), $"{overlay}: ServiceAccount {account} of {deployment.Name()} may not '{verb}' pods, which Kubernetes hosting needs (labels, watch, dead-pod cleanup)");
            }
    }

    [KubectlFact]
    public void Every_silo_pod_meets_the_restricted_pod_security_standard_and_no_secret_sits_in_a_config_map()
    {
        foreach (var (overlay, rendered) in RenderAll())
        {
            foreach (var (deployment, pod) in Pods(rendered))
            {
                var where = $"{overlay}: Deployment {deployment.Name()}";
                var podSecurity = pod["spec"]!["securityContext"];
                Assert.True(podSecurity?["runAsNonRoot"]?.ToString() is "true" or "True", $"{where}: securityContext.runAsNonRoot is not true");
                Assert.True(long.TryParse(podSecurity?["runAsUser"]?.ToString(), out var uid) && uid > 0, $"{where}: securityContext.runAsUser is not a non-root uid");
                Assert.True(podSecurity?["seccompProfile"]?["type"]?.ToString() == "RuntimeDefault", $"{where}: securityContext.seccompProfile.type is not RuntimeDefault");
                var container = Container(pod)["securityContext"];
                Assert.True(container?["allowPrivilegeEscalation"]?.ToString() is "false" or "False", $"{where}: the container may escalate privileges");
                Assert.True(container?["readOnlyRootFilesystem"]?.ToString() is "true" or "True", $"{where}: the container's root filesystem is writable");
                Assert.True(container?["capabilities"]?["drop"]?.AsArray().Any(c => c?.ToString() == "ALL") == true, $"{where}: the container keeps Linux capabilities (drop ALL)");
            }
            foreach (var map in rendered.OfKind("ConfigMap"))
                foreach (var (key, _) in map["data"]?.AsObject() ?? [])
                    Assert.False(key.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase) || key.Contains("ApiKeys__", StringComparison.OrdinalIgnoreCase)
                        || key.Contains("AgentLogKeys", StringComparison.OrdinalIgnoreCase) || key.Contains("Password", StringComparison.OrdinalIgnoreCase),
                        $"{overlay}: ConfigMap {map.Name()} holds {key}, a secret: put it in rft-secrets");
        }
    }

    [KubectlFact]
    public void Only_the_gpu_overlay_requests_gpus_and_its_silos_advertise_one_device_per_gpu()
    {
        var all = RenderAll().ToDictionary(r => r.Overlay, r => r.Rendered);
        foreach (var (_, pod) in Pods(all["cpu"])) Assert.Null(Container(pod)["resources"]?["limits"]?["nvidia.com/gpu"]);
        var gpuPods = Pods(all["gpu"]).Where(p => Container(p.Pod)["resources"]?["limits"]?["nvidia.com/gpu"] is not null).ToList();
        Assert.True(gpuPods.Count == 1, "the gpu overlay should have one Deployment of GPU silos");
        var (deployment, gpuPod) = gpuPods[0];
        var gpus = int.Parse((string)Container(gpuPod)["resources"]!["limits"]!["nvidia.com/gpu"]!);
        using var environment = PodEnvironment.Build(all["gpu"], gpuPod);
        var devices = Bind(environment.Variables, deployment.Name()).Devices.Split(',', StringSplitOptions.TrimEntries);
        Assert.True(devices.Length == gpus && devices.All(d => d.StartsWith("cuda:", StringComparison.Ordinal)),
            $"{deployment.Name()} requests {gpus} GPU(s) but advertises Rft:Devices '{string.Join(",", devices)}'");
        Assert.Contains("silo-cuda", (string)Container(gpuPod)["image"]!);
        // The autoscaler (cpu overlay) scales a CPU Deployment that exists.
        var hpa = all["cpu"].OfKind("HorizontalPodAutoscaler").Single();
        var target = all["cpu"].Named("Deployment", (string)hpa["spec"]!["scaleTargetRef"]!["name"]!);
        Assert.Null(Container(target["spec"]!["template"]!.AsObject())["resources"]?["limits"]?["nvidia.com/gpu"]);
        Assert.Empty(all["gpu"].OfKind("HorizontalPodAutoscaler"));
    }

    /// <summary>The probes' paths are real routes: a silo with its HTTP endpoint answers each of them with 200.</summary>
    [KubectlFact]
    public async Task Every_probe_path_is_a_route_the_silo_answers_with_200()
    {
        var paths = RenderAll().SelectMany(r => Pods(r.Rendered)).SelectMany(p => new[] { "startupProbe", "readinessProbe", "livenessProbe" }
            .Select(probe => (string)Container(p.Pod)[probe]!["httpGet"]!["path"]!)).ToHashSet();
        Assert.Equal(["/healthz", "/readyz"], paths.Order());
        var root = Path.Combine(Path.GetTempPath(), "orleans-rft-probe-test", Guid.NewGuid().ToString("N")[..8]);
        await using var host = await HttpHost.StartAsync(new RftSiloOptions { Devices = "cpu", ArtifactsPath = root });
        using var http = new HttpClient { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var path in paths)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60); // /readyz is 503 until the silo is active: wait for that, not a fixed time
            HttpStatusCode status;
            while ((status = (await http.GetAsync(path)).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(250);
            Assert.True(status == HttpStatusCode.OK, $"GET {path} answered {(int)status}");
        }
    }

    // ---- rendering and the pod environment ----

    /// <summary>The overlays, and the cpu overlay with the optional tls component (rendered from a temporary kustomization).</summary>
    static IEnumerable<(string Overlay, IReadOnlyList<JsonObject> Rendered)> RenderAll()
    {
        yield return ("cpu", WithSecrets(Kustomize.Render(Path.Combine(K8s, "overlays", "cpu"))));
        yield return ("gpu", WithSecrets(Kustomize.Render(Path.Combine(K8s, "overlays", "gpu"))));
        var temp = Directory.CreateTempSubdirectory("orleans-rft-kustomize-");
        try
        {
            File.WriteAllText(Path.Combine(temp.FullName, "kustomization.yaml"),
                $"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {Path.GetRelativePath(temp.FullName, Path.Combine(K8s, "overlays", "cpu"))}\n" +
                $"components:\n  - {Path.GetRelativePath(temp.FullName, Path.Combine(K8s, "components", "tls"))}\n"); // kustomize takes no absolute paths
            yield return ("cpu+tls", WithSecrets(Kustomize.Render(temp.FullName)));
        }
        finally { temp.Delete(recursive: true); }
    }

    /// <summary>
    /// The overlays render no Secret (re-applying them must not overwrite the real one): the rft-secrets keys come
    /// from infra/k8s/secrets, rendered here with its example env file and an API keys file.
    /// </summary>
    static IReadOnlyList<JsonObject> WithSecrets(IReadOnlyList<JsonObject> overlay)
    {
        Assert.Empty(overlay.OfKind("Secret"));
        var temp = Directory.CreateTempSubdirectory("orleans-rft-secrets-");
        try
        {
            File.Copy(Path.Combine(K8s, "secrets", "kustomization.yaml"), Path.Combine(temp.FullName, "kustomization.yaml"));
            File.Copy(Path.Combine(K8s, "secrets", "rft-secrets.env.example"), Path.Combine(temp.FullName, "rft-secrets.env"));
            File.WriteAllText(Path.Combine(temp.FullName, "api-keys"), "test-key-1\n");
            var tls = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = "rft-tls" }, ["type"] = "kubernetes.io/tls",
                ["data"] = new JsonObject(TlsSecretKeys.Select(k => KeyValuePair.Create(k, (JsonNode?)JsonValue.Create("")))) };
            return [.. overlay, .. Kustomize.Render(temp.FullName), tls];
        }
        finally { temp.Delete(recursive: true); }
    }

    static IEnumerable<(JsonObject Deployment, JsonObject Pod)> Pods(IReadOnlyList<JsonObject> rendered) =>
        rendered.OfKind("Deployment").Where(d => (string?)d["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"] == "rft-silo")
            .Select(d => (d, d["spec"]!["template"]!.AsObject()));

    static JsonObject Container(JsonObject pod) => pod["spec"]!["containers"].Items().Single(c => (string?)c["name"] == "silo");

    static bool Matches(JsonNode? selector, JsonObject pod) =>
        selector is JsonObject s && s.Count > 0 && s.All(kv => (string?)pod["metadata"]!["labels"]![kv.Key] == (string?)kv.Value);

    /// <summary>Binds the environment the way the silo does (Rft__A__B is Rft:A:B), refusing any key that is no option.</summary>
    static RftSiloOptions Bind(IReadOnlyDictionary<string, string> variables, string where)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":"), (string?)kv.Value)))
            .Build();
        try { return configuration.GetSection("Rft").Get<RftSiloOptions>(b => b.ErrorOnUnknownConfiguration = true) ?? new RftSiloOptions(); }
        catch (InvalidOperationException e) { throw new Xunit.Sdk.XunitException($"{where}: an Rft__ variable maps to no RftSiloOptions property: {e.Message}"); }
    }

    /// <summary>
    /// Runs <paramref name="action"/> with the variable Kubernetes gives every pod (the silo refuses Rft:Kubernetes
    /// without it). Process-wide, so safe only because this assembly runs its tests one at a time (AssemblyInfo.cs).
    /// </summary>
    static void InPod(Action action)
    {
        var before = System.Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        System.Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", "10.96.0.1");
        try { action(); }
        finally { System.Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", before); }
    }

    /// <summary>
    /// A silo container's environment as the kubelet would build it: envFrom ConfigMaps, then env in order
    /// ($(VAR) expanded, downward-API fields, Secret keys), and every mounted Secret or emptyDir made a
    /// temporary folder (a Secret's keys as files), with paths under a mount moved there.
    /// </summary>
    sealed class PodEnvironment : IDisposable
    {
        public Dictionary<string, string> Variables { get; } = new();
        readonly List<string> folders = [];
        readonly TestCertificates certificates = new();
        readonly Lazy<(string CertificatePath, string KeyPath)> siloCertificate;

        PodEnvironment() => siloCertificate = new(() => certificates.IssuePem("silo"));

        public static PodEnvironment Build(IReadOnlyList<JsonObject> rendered, JsonObject pod)
        {
            var environment = new PodEnvironment();
            try { environment.Fill(rendered, pod); }
            catch { environment.Dispose(); throw; }
            return environment;
        }

        void Fill(IReadOnlyList<JsonObject> rendered, JsonObject pod)
        {
            var container = Container(pod);
            foreach (var source in container["envFrom"].Items())
            {
                var map = rendered.Named("ConfigMap", (string)source["configMapRef"]!["name"]!);
                foreach (var (key, value) in map["data"]!.AsObject()) Variables[key] = (string)value!;
            }
            foreach (var entry in container["env"].Items())
            {
                var name = (string)entry["name"]!;
                if (entry["value"] is { } literal) Variables[name] = Regex.Replace((string)literal!, @"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", m => Variables.GetValueOrDefault(m.Groups[1].Value, m.Value));
                else if ((string?)entry["valueFrom"]?["fieldRef"]?["fieldPath"] is { } field)
                    Variables[name] = field switch
                    {
                        "metadata.name" => "rft-silo-cpu-5d9c7b-x2x7q",
                        "metadata.namespace" => "orleans-rft",
                        "status.podIP" => "10.244.1.17",
                        _ => throw new Xunit.Sdk.XunitException($"env {name} reads downward-API field {field}, which this test does not simulate"),
                    };
                else if (entry["valueFrom"]?["secretKeyRef"] is { } reference)
                {
                    var secret = rendered.Named("Secret", (string)reference["name"]!);
                    var key = (string)reference["key"]!;
                    Assert.True(SecretKeys(secret).Contains(key), $"env {name} reads key '{key}' of Secret {secret.Name()}, which has only {string.Join(", ", SecretKeys(secret))}");
                    Variables[name] = SecretValue(key);
                }
                else throw new Xunit.Sdk.XunitException($"env {name} has neither a value nor a reference this test knows");
            }
            var volumes = pod["spec"]!["volumes"].Items().ToDictionary(v => (string)v["name"]!);
            var mounts = new Dictionary<string, string>();
            foreach (var mount in container["volumeMounts"].Items())
            {
                var volumeName = (string)mount["name"]!;
                Assert.True(volumes.TryGetValue(volumeName, out var volume), $"volumeMount {volumeName} names no volume of the pod");
                var folder = Directory.CreateTempSubdirectory("orleans-rft-mount-").FullName;
                folders.Add(folder);
                if (volume!["secret"] is { } secretVolume)
                {
                    var secret = rendered.Named("Secret", (string)secretVolume["secretName"]!);
                    var items = secretVolume["items"].Items().Select(i => ((string)i["key"]!, (string)i["path"]!)).ToList();
                    if (items.Count == 0) items = SecretKeys(secret).Select(k => (k, k)).ToList();
                    foreach (var (key, path) in items)
                    {
                        Assert.True(SecretKeys(secret).Contains(key), $"volume {volumeName} mounts key '{key}' of Secret {secret.Name()}, which has only {string.Join(", ", SecretKeys(secret))}");
                        File.WriteAllText(Path.Combine(folder, path), FileContent(key));
                    }
                }
                else Assert.True(volume["emptyDir"] is not null, $"volume {volumeName} is neither a Secret nor an emptyDir; this test does not simulate it");
                mounts[((string)mount["mountPath"]!).TrimEnd('/')] = folder;
            }
            // Each path moves once, to the deepest mount it lies under (as in the container's file system).
            foreach (var name in Variables.Keys.ToList())
                if (mounts.Keys.Where(m => Variables[name].StartsWith(m + "/", StringComparison.Ordinal)).MaxBy(m => m.Length) is { } mountPath)
                    Variables[name] = mounts[mountPath] + Variables[name][mountPath.Length..];
        }

        static IReadOnlyCollection<string> SecretKeys(JsonObject secret) =>
            ((secret["data"] as JsonObject)?.Select(kv => kv.Key) ?? []).Concat((secret["stringData"] as JsonObject)?.Select(kv => kv.Key) ?? []).ToHashSet();

        /// <summary>A value of the kind each Secret key holds (the example file's is an account's shape, not a usable one).</summary>
        static string SecretValue(string key) => key switch
        {
            "azure-storage-connection-string" => "UseDevelopmentStorage=true",
            _ => throw new Xunit.Sdk.XunitException($"Secret key '{key}' is read into an env var, and this test does not know what it holds"),
        };

        string FileContent(string key) => key switch
        {
            "api-keys" => "test-key-1\n",
            "tls.crt" => File.ReadAllText(siloCertificate.Value.CertificatePath),
            "tls.key" => File.ReadAllText(siloCertificate.Value.KeyPath),
            "ca.crt" => File.ReadAllText(certificates.CaPath),
            _ => throw new Xunit.Sdk.XunitException($"Secret key '{key}' is mounted as a file, and this test does not know what it holds"),
        };

        public void Dispose()
        {
            certificates.Dispose();
            foreach (var folder in folders) try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
