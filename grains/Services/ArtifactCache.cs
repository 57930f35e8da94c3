using System.Collections.Concurrent;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// The local copies of remote artifacts: one folder per materialized store prefix directly under
/// <see cref="Root"/>, at most <see cref="LimitBytes"/> in all. When a materialization leaves the
/// cache over its limit, whole folders go, least recently used first (a folder's last-write time is
/// its last use, so the order survives a restart and is shared by processes on one machine). A folder
/// pinned is never evicted: by a materialization in progress, the one just materialized (so a single
/// folder larger than the limit is still served), and a base model that a served model or a trainer
/// rank holds through an <see cref="ArtifactLease"/> (so a later load finds its files). Pins are per process: a silo sharing the
/// cache root with another process could, rarely, evict a folder that process is about to read, so
/// each cluster and service gets a root of its own (<see cref="RootFor"/>).
/// </summary>
public sealed class ArtifactCache
{
    static readonly ConcurrentDictionary<string, int> pins = new(StringComparer.Ordinal);
    static readonly ConcurrentDictionary<string, object> trimLocks = new(StringComparer.Ordinal);

    public ArtifactCache(string root, long limitBytes)
    {
        if (limitBytes <= 0) throw new ArgumentOutOfRangeException(nameof(limitBytes), "the artifact cache limit must be > 0 bytes.");
        Root = Path.GetFullPath(root);
        LimitBytes = limitBytes;
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }
    public long LimitBytes { get; }

    /// <summary>The cache root for one cluster and service: <c>{baseDirectory}/{serviceId}/{clusterId}</c>, ids escaped to file names.</summary>
    public static string RootFor(string baseDirectory, string serviceId, string clusterId) =>
        Path.Combine(baseDirectory, Uri.EscapeDataString(serviceId), Uri.EscapeDataString(clusterId));

    /// <summary>The folder holding a store prefix: flat (the prefix escaped to one name), so folders never nest and each is evicted whole.</summary>
    public string FolderFor(string key) => Path.Combine(Root, Uri.EscapeDataString(key));

    /// <summary>Keeps <paramref name="folder"/> from eviction until disposed; marks it used now.</summary>
    public IDisposable Pin(string folder)
    {
        lock (TrimLock) // never half-way through a Trim deleting it
        {
            pins.AddOrUpdate(folder, 1, (_, n) => n + 1);
            Directory.CreateDirectory(folder);
            Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow);
            return new Unpin(folder);
        }
    }

    /// <summary>
    /// Pins <paramref name="folder"/> only if it is still cached: null when a Trim evicted it (the caller
    /// materializes it again). Taken under the trim lock, so a folder is either whole or gone here.
    /// </summary>
    public IDisposable? TryPin(string folder)
    {
        lock (TrimLock)
        {
            if (!Directory.Exists(folder)) return null;
            return Pin(folder);
        }
    }

    /// <summary>The top-level cache folder holding <paramref name="localPath"/> (a file or folder), or null if it lies outside this cache.</summary>
    public string? FolderHolding(string localPath)
    {
        var full = Path.GetFullPath(localPath);
        if (!ArtifactPaths.IsInside(Root, full) || full.Length <= Root.Length + 1) return null;
        return Path.Combine(Root, full[(Root.Length + 1)..].Split(Path.DirectorySeparatorChar)[0]);
    }

    /// <summary>Whether <paramref name="folder"/> is pinned by this process (for tests and diagnostics).</summary>
    public static bool IsPinned(string folder) => pins.ContainsKey(folder);

    object TrimLock => trimLocks.GetOrAdd(Root, _ => new object());

    sealed class Unpin(string folder) : IDisposable
    {
        int disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1) return;
            if (pins.AddOrUpdate(folder, 0, (_, n) => n - 1) <= 0) pins.TryRemove(new KeyValuePair<string, int>(folder, 0));
        }
    }

    /// <summary>Deletes least recently used unpinned folders until the cache fits its limit; returns the folders deleted.</summary>
    public IReadOnlyList<string> Trim()
    {
        lock (TrimLock)
        {
            var folders = new DirectoryInfo(Root).EnumerateDirectories()
                .Select(d => (Folder: d, Bytes: SizeOf(d), Used: d.LastWriteTimeUtc))
                .OrderBy(f => f.Used).ToList();
            var total = folders.Sum(f => f.Bytes);
            var evicted = new List<string>();
            foreach (var (folder, bytes, _) in folders)
            {
                if (total <= LimitBytes) break;
                if (pins.ContainsKey(folder.FullName)) continue;
                try { folder.Delete(recursive: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // in use elsewhere: try the next
                total -= bytes;
                evicted.Add(folder.FullName);
            }
            return evicted;
        }
    }

    static long SizeOf(DirectoryInfo folder)
    {
        try { return folder.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length); }
        catch (IOException) { return 0; } // deleted meanwhile
    }
}
