namespace Orleans.Rft.Cluster.Tests;

/// <summary>The repository's root folder: the first folder above the test binaries that holds <c>Orleans.Rft.sln</c>.</summary>
static class Repository
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.Rft.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"Orleans.Rft.sln not found above the test binaries ({AppContext.BaseDirectory}).");
    }
}
