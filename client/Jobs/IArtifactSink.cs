namespace Orleans.Rft.Client.Jobs;

/// <summary>Where <see cref="ArtifactUploader"/> sends one file's bytes: the upload grain (<see cref="GrainArtifactSink"/>) or the HTTP upload routes (<see cref="Http.HttpArtifactSink"/>).</summary>
public interface IArtifactSink
{
    /// <summary>
    /// Stores <paramref name="stream"/> (whose SHA-256 is <paramref name="sha256"/>) in the cluster's artifact
    /// store, resuming where an interrupted attempt stopped; returns the bytes sent (0 when it was there already).
    /// </summary>
    Task<long> Upload(Stream stream, string sha256, string label, Action<string>? progress, CancellationToken cancellation);
}
