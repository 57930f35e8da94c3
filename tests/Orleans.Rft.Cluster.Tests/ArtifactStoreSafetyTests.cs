using System.Text;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>No store path leaves the store, and a cluster's silos read no file a job spec names on their disks.</summary>
public sealed class ArtifactStoreSafetyTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-store-safety", Guid.NewGuid().ToString("N")[..8]);
    readonly LocalArtifactStore store;

    public ArtifactStoreSafetyTests()
    {
        Directory.CreateDirectory(Path.Combine(dir, "artifacts"));
        Directory.CreateDirectory(Path.Combine(dir, "artifacts2"));
        File.WriteAllText(Path.Combine(dir, "artifacts2", "x"), "sibling");
        File.WriteAllText(Path.Combine(dir, "x"), "parent");
        store = new LocalArtifactStore(Path.Combine(dir, "artifacts"));
    }

    public static TheoryData<string> Escapes => new() { "../x", "..\\x", "/etc/passwd", "a/../../x", "../artifacts2/x", "a//b", "./x", "C:\\x", "a/\0/b", "" };

    [Theory]
    [MemberData(nameof(Escapes))]
    public async Task Every_operation_of_the_local_store_refuses_a_path_that_is_not_a_relative_store_path(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => store.ReadAsync(path));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ExistsAsync(path));
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(path, [1]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(path));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(path));
        await Assert.ThrowsAsync<ArgumentException>(() => store.MaterializeAsync(path));
        Assert.Equal("sibling", File.ReadAllText(Path.Combine(dir, "artifacts2", "x")));
        Assert.Equal("parent", File.ReadAllText(Path.Combine(dir, "x")));
    }

    [Fact]
    public void The_root_check_is_separator_aware()
    {
        Assert.True(ArtifactPaths.IsInside("/a/artifacts", "/a/artifacts/x"));
        Assert.True(ArtifactPaths.IsInside("/a/artifacts/", "/a/artifacts"));
        Assert.False(ArtifactPaths.IsInside("/a/artifacts", "/a/artifacts2/x"));
        Assert.False(ArtifactPaths.IsInside("/a/artifacts", "/a/x"));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("train.jsonl")]
    public async Task A_store_that_does_not_allow_local_paths_refuses_a_silo_path_and_says_how_to_send_the_file(string path)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.LocalPathAsync(path));
        Assert.Contains("rft submit", e.Message);
        Assert.Contains("Rft:AllowLocalPaths", e.Message);
        Assert.Null(store.LocalFolderOrNull(dir));
        var open = new LocalArtifactStore(Path.Combine(dir, "artifacts")) { AllowLocalPaths = true };
        Assert.Equal(path, await open.LocalPathAsync(path));
        Assert.Equal(dir, open.LocalFolderOrNull(dir));
    }

    [Theory]
    [InlineData("artifact:../x")]
    [InlineData("artifact:/etc/passwd")]
    [InlineData("artifact:sha256/0000000000000000000000000000000000000000000000000000000000000000/..")]
    [InlineData("artifact:a/../../x")]
    public async Task An_artifact_reference_cannot_leave_the_store(string reference) =>
        await Assert.ThrowsAsync<ArgumentException>(() => store.LocalPathAsync(reference));

    [Fact]
    public async Task Uploaded_files_and_folders_materialize_under_their_own_names()
    {
        var data = Encoding.UTF8.GetBytes("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
        var config = Encoding.UTF8.GetBytes("{\"model_type\": \"qwen2\"}");
        string Sha(byte[] b) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b));
        await store.WriteAsync(ArtifactReference.UploadPath(Sha(data)), data);
        await store.WriteAsync(ArtifactReference.UploadPath(Sha(config)), config);
        var manifest = Encoding.UTF8.GetBytes(ArtifactReference.Manifest([("config.json", Sha(config)), ("train.jsonl", Sha(data))]));
        await store.WriteAsync(ArtifactReference.UploadPath(Sha(manifest)), manifest);

        var file = await store.LocalPathAsync(ArtifactReference.ForFile(Sha(data), "train.jsonl"));
        Assert.Equal("train.jsonl", Path.GetFileName(file));
        Assert.Equal(data, await File.ReadAllBytesAsync(file));
        var folder = await store.LocalPathAsync(ArtifactReference.ForFolder(Sha(manifest)));
        Assert.Equal(config, await File.ReadAllBytesAsync(Path.Combine(folder, "config.json")));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(folder, "train.jsonl")));
        await Assert.ThrowsAsync<FileNotFoundException>(() => store.LocalPathAsync(ArtifactReference.ForFile(new string('c', 64), "x.jsonl")));
    }

    [Fact]
    public async Task A_manifest_naming_a_path_instead_of_a_file_name_is_refused()
    {
        var config = "{}"u8.ToArray();
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(config));
        await store.WriteAsync(ArtifactReference.UploadPath(sha), config);
        var manifest = Encoding.UTF8.GetBytes($"../../escape.json {sha}");
        var manifestSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifest));
        await store.WriteAsync(ArtifactReference.UploadPath(manifestSha), manifest);
        await Assert.ThrowsAsync<ArgumentException>(() => store.LocalPathAsync(ArtifactReference.ForFolder(manifestSha)));
        Assert.False(File.Exists(Path.Combine(dir, "escape.json")));
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
