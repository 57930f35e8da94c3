using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs.Spec;

/// <summary>
/// Where a spec's inputs (<c>base_model</c>, <c>dataset</c>, <c>eval_dataset</c>) and an evaluator's files are
/// read from while it is validated. A job file resolves paths against its own folder. A request
/// (<c>POST /v1/rft/jobs</c>) has no folder: its inputs are <c>artifact:</c> references, checked through
/// copies the silo materialized from its store, and kept as references in the spec; a path on the
/// silo's disk only where <c>Rft:AllowLocalPaths</c> is on, and then only an absolute one.
/// </summary>
/// <param name="Resolve">(field, value as written) → (a local path to check, the value the spec keeps)</param>
/// <param name="BaseDirectory">what the spec keeps as its folder (agent programs run there)</param>
/// <param name="FilesDirectory">what an evaluator's file paths resolve against; null refuses them (send them inline)</param>
/// <param name="AcceptsBaseModelName">a request may name its base (<c>base_model_name</c>) apart from its artifact address</param>
public sealed record JobSpecInputs(Func<string, string, (string Check, string Keep)> Resolve, string BaseDirectory, string? FilesDirectory, bool AcceptsBaseModelName)
{
    public static JobSpecInputs Local(string directory) => new((_, value) =>
    {
        var path = Path.GetFullPath(Path.Combine(directory, value));
        return (path, path);
    }, directory, directory, false);

    /// <param name="materialized">each <c>artifact:</c> reference of the request and where the silo materialized it (a reference missing here was not uploaded)</param>
    public static JobSpecInputs Request(IReadOnlyDictionary<string, string> materialized, bool allowLocalPaths) => new((field, value) =>
    {
        if (ArtifactReference.IsReference(value))
            return materialized.TryGetValue(value, out var local)
                ? (local, value)
                : throw new SpecException(field, $"'{value}' is not in the cluster's artifact store; upload it first (POST /v1/rft/artifacts) and refer to it as {ArtifactReference.Scheme}sha256/<hex>/<name> (a file) or {ArtifactReference.Scheme}folder/<hex> (a folder's manifest).");
        if (!allowLocalPaths)
            throw new SpecException(field, $"'{value}' is a path, and this cluster reads only {ArtifactReference.Scheme} references from requests; upload the file (POST /v1/rft/artifacts, or `rft submit --url`, which uploads) or let the silos read their disk with Rft:AllowLocalPaths=true.");
        if (!Path.IsPathFullyQualified(value))
            throw new SpecException(field, $"'{value}' is a relative path, and a request has no folder to resolve it against; give an absolute path on the silos' disk or an {ArtifactReference.Scheme} reference.");
        return (value, value);
    }, RequestDirectory, allowLocalPaths ? RequestDirectory : null, true);

    /// <summary>A request's spec folder: the root, so only absolute paths mean anything (and only where local paths are allowed).</summary>
    public const string RequestDirectory = "/";
}
