namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// A path in a job spec that names a file or folder in the cluster's artifact store rather than on
/// the silo's disk. <c>rft submit</c> uploads local inputs and writes these; silos materialize them
/// before use. Two forms, and a silo reads no other (<c>artifact:jobs/…</c> would reach other jobs' outputs):
/// <list type="bullet">
/// <item><c>artifact:sha256/{hex}/{name}</c>: one uploaded file, stored at <see cref="UploadPath"/>
/// and materialized under <c>name</c> (so dataset errors still say <c>train.jsonl:12</c>);</item>
/// <item><c>artifact:folder/{hex}</c>: a folder whose manifest (lines <c>{name} {sha256}</c>) is the
/// uploaded file <c>{hex}</c>; each listed file is an upload of its own;</item>
/// </list>
/// </summary>
public static class ArtifactReference
{
    public const string Scheme = "artifact:";

    public static bool IsReference(string path) => path.StartsWith(Scheme, StringComparison.Ordinal);

    public static string For(string storePath) => Scheme + storePath;

    public static string StorePath(string reference) =>
        IsReference(reference) ? reference[Scheme.Length..] : throw new ArgumentException($"'{reference}' is not an {Scheme} reference.");

    /// <summary>Where a verified upload of content with this SHA-256 lives; nothing else is ever written there.</summary>
    public static string UploadPath(string sha256) => IsSha256(sha256)
        ? $"uploads/sha256/{sha256}"
        : throw new ArgumentException($"'{sha256}' is not a lower-case hex SHA-256 (64 characters of 0-9a-f).");

    public static string ForFile(string sha256, string name) => For($"sha256/{sha256}/{CheckedName(name)}");

    public static string ForFolder(string manifestSha256) => For($"folder/{manifestSha256}");

    /// <summary>The manifest of a folder upload: one <c>{name} {sha256}</c> line per file, in ordinal order of names.</summary>
    public static string Manifest(IEnumerable<(string Name, string Sha256)> files) =>
        string.Join('\n', files.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{CheckedName(f.Name)} {f.Sha256}"));

    public static bool IsSha256(string text) => text.Length == 64 && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>A plain file name: no separators, no '..', no control characters; a name is never a path.</summary>
    public static string CheckedName(string name) =>
        name.Length is > 0 and <= 255 && name is not ("." or "..") && !name.Any(c => c is '/' or '\\' or ':' || char.IsControl(c))
            ? name
            : throw new ArgumentException($"'{name}' is not a plain file name (no '/', '\\', ':', '..' or control characters).");
}
