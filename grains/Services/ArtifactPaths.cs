namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Store paths are relative, '/'-separated and stay inside the store. Every store checks each path
/// with <see cref="Checked"/> before use, and a local folder with <see cref="IsInside"/> after
/// combining, so neither a spec nor a client can name a file outside the store.
/// </summary>
public static class ArtifactPaths
{
    /// <summary>The path itself (a trailing '/' dropped) if it is a relative store path; otherwise an <see cref="ArgumentException"/> saying why.</summary>
    public static string Checked(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = path.TrimEnd('/');
        string? problem =
            trimmed.Length == 0 ? "is empty" :
            trimmed.Contains('\\') ? "contains '\\'; store paths use '/'" :
            trimmed.StartsWith('/') || Path.IsPathRooted(trimmed) || (trimmed.Length > 1 && trimmed[1] == ':') ? "is absolute" :
            trimmed.Any(char.IsControl) ? "contains a control character" :
            trimmed.Split('/').Any(s => s is "" or "." or "..") ? "has an empty, '.' or '..' segment" :
            null;
        return problem is null ? trimmed : throw new ArgumentException($"artifact path '{path}' {problem}; give a relative path inside the store such as jobs/<id>/adapters/v1.");
    }

    /// <summary>Whether <paramref name="full"/> is <paramref name="root"/> or below it: a separator-aware check (<c>/a/artifacts2</c> is not inside <c>/a/artifacts</c>).</summary>
    public static bool IsInside(string root, string full)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        full = Path.GetFullPath(full);
        return full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
