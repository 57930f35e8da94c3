using System.Diagnostics;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Renders a kustomization with <c>kubectl kustomize</c> (offline; kustomize is built into kubectl) and
/// parses the documents into JSON nodes (every scalar a string, as the YAML says it).
/// </summary>
public static class Kustomize
{
    /// <summary>kubectl on PATH, or null.</summary>
    public static string? Kubectl()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static IReadOnlyList<JsonObject> Render(string kustomizationDir)
    {
        var kubectl = Kubectl() ?? throw new InvalidOperationException("kubectl is not installed: the manifest tests render the overlays with `kubectl kustomize` (kubectl 1.27 or later, whose built-in kustomize is v5; Debian 12's kubernetes-client package is too old).");
        var start = new ProcessStartInfo(kubectl, ["kustomize", kustomizationDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(); throw new TimeoutException($"kubectl kustomize {kustomizationDir} ran over 60 s."); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"kubectl kustomize {kustomizationDir} failed: {stderr.Result}");
        return Parse(stdout.Result);
    }

    public static IReadOnlyList<JsonObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>().ToList();
    }

    static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => scalar.Value is null ? null : JsonValue.Create(scalar.Value),
        _ => null,
    };

    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> objects, string kind) => objects.Where(o => (string?)o["kind"] == kind);

    public static JsonObject Named(this IEnumerable<JsonObject> objects, string kind, string name) =>
        objects.OfKind(kind).SingleOrDefault(o => (string?)o["metadata"]?["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"the rendered manifests have no {kind} named '{name}'");

    public static string Name(this JsonObject o) => (string)o["metadata"]!["name"]!;

    public static IEnumerable<JsonObject> Items(this JsonNode? array) => array is JsonArray a ? a.OfType<JsonObject>() : [];
}

/// <summary>A test that needs kubectl: skipped without it, except under CI=true, where a missing kubectl is a failure (the test then runs and says so).</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kustomize.Kubectl() is null && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = "kubectl is not installed (it renders the kustomize overlays); under CI=true this test fails instead.";
    }
}
