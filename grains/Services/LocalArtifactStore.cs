namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Artifacts as files under one directory; writes go through a temporary file and a rename, so readers
/// never see half a file. Every path is checked (<see cref="ArtifactPaths"/>) and must resolve inside
/// <see cref="Root"/>.
/// </summary>
public sealed class LocalArtifactStore(string root) : IArtifactStore
{
    public string Root { get; } = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
    public string Describe => Root;
    public bool AllowLocalPaths { get; init; }

    string Full(string path)
    {
        var full = Path.GetFullPath(Path.Combine(Root, ArtifactPaths.Checked(path)));
        if (!ArtifactPaths.IsInside(Root, full)) throw new ArgumentException($"artifact path '{path}' escapes the store.");
        return full;
    }

    public async Task WriteAsync(string path, byte[] content, CancellationToken cancellation = default)
    {
        var full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await File.WriteAllBytesAsync(tmp, content, cancellation);
        File.Move(tmp, full, overwrite: true);
    }

    public async Task WriteFileAsync(string path, string localFile, CancellationToken cancellation = default)
    {
        var full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await using (var source = File.OpenRead(localFile))
        await using (var target = File.Create(tmp))
            await source.CopyToAsync(target, cancellation);
        File.Move(tmp, full, overwrite: true);
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellation = default) => Task.FromResult(File.Exists(Full(path)));

    public async Task<byte[]?> ReadAsync(string path, CancellationToken cancellation = default)
    {
        var full = Full(path);
        return File.Exists(full) ? await File.ReadAllBytesAsync(full, cancellation) : null;
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellation = default)
    {
        var dir = Full(prefix);
        IReadOnlyList<string> files = Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).Order().ToList()
            : [];
        return Task.FromResult(files);
    }

    public Task DeleteAsync(string prefix, CancellationToken cancellation = default)
    {
        var dir = Full(prefix);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        return Task.CompletedTask;
    }

    public Task<string> MaterializeAsync(string prefix, CancellationToken cancellation = default) => Task.FromResult(Full(prefix));

    /// <summary>
    /// A folder under <c>materialized/</c> whose entries are symbolic links to the stored files (a
    /// copy where links are not allowed), so a model assembled from uploads is not stored twice.
    /// </summary>
    public Task<string> MaterializeFilesAsync(string key, IReadOnlyList<(string Name, string StorePath)> files, CancellationToken cancellation = default)
    {
        var folder = Full("materialized/" + key);
        Directory.CreateDirectory(folder);
        foreach (var (name, storePath) in files)
        {
            var target = Full($"materialized/{key}/{GrainInterfaces.ArtifactReference.CheckedName(name)}");
            if (File.Exists(target)) continue;
            var source = Full(storePath);
            if (!File.Exists(source)) throw new FileNotFoundException($"'{storePath}' is not in the artifact store ({Root}).");
            var tmp = target + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            try { File.CreateSymbolicLink(tmp, source); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException) { File.Copy(source, tmp); }
            File.Move(tmp, target, overwrite: true);
        }
        return Task.FromResult(folder);
    }
}
