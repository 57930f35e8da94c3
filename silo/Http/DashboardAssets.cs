using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The dashboard's files, embedded in this assembly at build time (silo/Dashboard/wwwroot and uPlot's
/// dist from npm, see the silo's .csproj): read once, served from memory with a content hash as ETag,
/// so a host needs no folder beside it and nothing is fetched at run time.
/// </summary>
public sealed class DashboardAssets
{
    const string Prefix = "dashboard/";

    public sealed record Asset(string Name, byte[] Content, string ContentType, string ETag);

    readonly FrozenDictionary<string, Asset> assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var found = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource[Prefix.Length..];
            var content = copy.ToArray();
            found[name] = new Asset(name, content, ContentType(name), "\"" + Convert.ToHexString(SHA256.HashData(content))[..32] + "\"");
        }
        foreach (var required in new[] { "index.html", "login.html", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css" })
            if (!found.ContainsKey(required))
                throw new InvalidOperationException($"the dashboard file '{required}' is not embedded in {assembly.GetName().Name}: rebuild the silo (its build runs npm ci in silo/Dashboard and embeds the files).");
        assets = found.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public Asset? Find(string name) => assets.GetValueOrDefault(name);

    public IEnumerable<string> Names => assets.Keys;

    static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
}
