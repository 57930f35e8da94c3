namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// Receives one file for the artifact store in chunks of at most <see cref="MessageLimits.MaxChunkBytes"/>.
/// Key: the file's lower-case hex SHA-256; the silo stores it at <see cref="ArtifactReference.UploadPath"/>
/// only once the bytes received hash to it. Content-addressed, so a second upload of the same file
/// finds it already there and sends nothing; a client never chooses a store path.
/// </summary>
public interface IArtifactUploadGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts or resumes an upload of <paramref name="size"/> bytes whose SHA-256 is
    /// <paramref name="sha256"/>; returns how many bytes the store already has (size when the file
    /// is there, so nothing need be sent).
    /// </summary>
    Task<long> Begin(string sha256, long size);

    /// <summary>Appends <paramref name="chunk"/> at <paramref name="offset"/>, which must equal the bytes received so far.</summary>
    Task Append(long offset, byte[] chunk);

    /// <summary>Checks size and SHA-256 of what arrived and writes it to the store; a mismatch discards the upload.</summary>
    [ResponseTimeout("00:05:00")]
    Task Complete();
}
