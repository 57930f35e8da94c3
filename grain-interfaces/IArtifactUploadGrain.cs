namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// Receives one file for the artifact store in chunks of at most <see cref="MessageLimits.MaxChunkBytes"/>.
/// Key: the file's lower-case hex SHA-256; the silo stores it at <see cref="ArtifactReference.UploadPath"/>
/// only once the bytes received hash to it. Content-addressed, so a second upload of the same file
/// finds it already there and sends nothing; a client never chooses a store path. Each client sends
/// under a session id of its own (a new <see cref="Guid"/> per upload), so two clients sending the
/// same new file at once each stage their own bytes and neither disturbs the other.
/// </summary>
public interface IArtifactUploadGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts or resumes <paramref name="session"/>'s upload of <paramref name="size"/> bytes whose
    /// SHA-256 is <paramref name="sha256"/>; returns how many bytes the silo already has for it (size
    /// when the file is in the store, so nothing need be sent; 0 for a session it does not know).
    /// </summary>
    Task<long> Begin(Guid session, string sha256, long size);

    /// <summary>Appends <paramref name="chunk"/> at <paramref name="offset"/>, which must equal the bytes this session sent so far.</summary>
    Task Append(Guid session, long offset, byte[] chunk);

    /// <summary>Checks size and SHA-256 of what the session sent and writes it to the store; a mismatch discards the session's bytes.</summary>
    [ResponseTimeout("00:05:00")]
    Task Complete(Guid session);
}
