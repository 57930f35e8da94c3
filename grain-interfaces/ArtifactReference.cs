namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// A path in a job spec that names a file or folder in the cluster's artifact store rather than on
/// the silo's disk: <c>artifact:datasets/{sha256}/train.jsonl</c> or <c>artifact:models/{sha256}</c>.
/// <c>rft submit</c> uploads local inputs and writes these; silos materialize them before use.
/// </summary>
public static class ArtifactReference
{
    public const string Scheme = "artifact:";

    public static bool IsReference(string path) => path.StartsWith(Scheme, StringComparison.Ordinal);

    public static string For(string storePath) => Scheme + storePath;

    public static string StorePath(string reference) =>
        IsReference(reference) ? reference[Scheme.Length..] : throw new ArgumentException($"'{reference}' is not an {Scheme} reference.");
}
