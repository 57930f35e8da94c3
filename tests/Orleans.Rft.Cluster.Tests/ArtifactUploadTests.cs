using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ArtifactUploadTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_job_whose_inputs_were_uploaded_runs_from_the_artifact_store_and_a_resubmit_sends_nothing()
    {
        // A copy of the inputs that the job will not find by path: deleted once uploaded.
        var local = Path.Combine(fixture.Root, "upload-inputs");
        Directory.CreateDirectory(Path.Combine(local, "model"));
        foreach (var f in Directory.EnumerateFiles(fixture.ModelDir)) File.Copy(f, Path.Combine(local, "model", Path.GetFileName(f)), true);
        File.Copy(fixture.DatasetPath, Path.Combine(local, "train.jsonl"), true);
        var spec = fixture.Spec("uploaded", trainers: 2, maxSteps: 2) with
        {
            BaseModel = Path.Combine(local, "model"), Dataset = Path.Combine(local, "train.jsonl"), EvalDataset = Path.Combine(local, "train.jsonl"),
        };
        var first = new ArtifactUploader(fixture.Cluster.Client);
        var uploaded = await first.UploadInputs(spec, CancellationToken.None);
        Assert.True(first.BytesSent > 0);
        Assert.Matches("^artifact:folder/[0-9a-f]{64}$", uploaded.BaseModel);
        Assert.Matches("^artifact:sha256/[0-9a-f]{64}/train.jsonl$", uploaded.Dataset);
        Directory.Delete(local, recursive: true);

        var snapshot = await fixture.RunToEnd("uploaded", uploaded);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        Assert.Equal(2, snapshot.Step);
        // The adapter names the model as the user gave it, not its artifact-store address.
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        var config = (await store.ListAsync("jobs/uploaded")).First(p => p.EndsWith("adapter_config.json"));
        Assert.Contains(Path.Combine(local, "model"), System.Text.Encoding.UTF8.GetString((await store.ReadAsync(config))!));

        // Content addressing: the same files again (here: the fixture's originals) are already there.
        var again = new ArtifactUploader(fixture.Cluster.Client);
        var second = await again.UploadInputs(fixture.Spec("again"), CancellationToken.None);
        Assert.Equal(0, again.BytesSent);
        Assert.Equal(uploaded.BaseModel, second.BaseModel);
    }

    [Fact]
    public async Task An_upload_whose_bytes_do_not_match_the_announced_sha256_is_refused_and_not_stored()
    {
        // Planting: bytes announced under another file's hash must never land where that hash's file lives.
        var victim = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("{\"messages\": [{\"role\": \"user\", \"content\": \"victim\"}]}\n"u8));
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(victim);
        var bytes = "{\"messages\": [{\"role\": \"user\", \"content\": \"planted\"}]}\n"u8.ToArray();
        Assert.Equal(0, await upload.Begin(victim, bytes.Length));
        await upload.Append(0, bytes);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => upload.Complete());
        Assert.Contains("differs from the announced", error.Message);
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.False(await store.ExistsAsync(ArtifactReference.UploadPath(victim)));
        Assert.Equal(0, await upload.Begin(victim, bytes.Length)); // not "already uploaded": nothing is there
    }

    [Fact]
    public async Task An_empty_file_uploads_and_uploads_again()
    {
        var empty = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([]));
        for (int i = 0; i < 2; i++)
        {
            var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(empty);
            Assert.Equal(0, await upload.Begin(empty, 0));
            await upload.Complete();
        }
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Contains($"uploads/sha256/{empty}", await store.ListAsync("uploads/sha256"));
    }

    [Fact]
    public async Task A_chunk_out_of_order_is_refused_with_the_offset_the_grain_expects()
    {
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(new string('a', 64));
        Assert.Equal(0, await upload.Begin(new string('a', 64), 10));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Append(4, new byte[2]));
        Assert.Contains("expected 0", error.Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("..\\x")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../x")]
    [InlineData("../artifacts2/x")]
    [InlineData("jobs/victim/checkpoints/3/adapter/adapter_model.safetensors")]
    [InlineData("uploads/sha256/0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task An_upload_key_is_never_a_store_path_so_no_upload_can_escape_or_overwrite_a_job_file(string key)
    {
        var bytes = "overwrite"u8.ToArray();
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(key);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => upload.Begin(sha, bytes.Length));
        Assert.Contains("must be the content's lower-case SHA-256", error.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => upload.Append(0, bytes));
        await Assert.ThrowsAnyAsync<Exception>(() => upload.Complete());
        var artifacts = Path.Combine(fixture.Root, "artifacts");
        if (!Path.IsPathRooted(key)) Assert.False(File.Exists(Path.GetFullPath(Path.Combine(artifacts, key.Replace('\\', '/')))));
        Assert.False(File.Exists(Path.Combine(fixture.Root, "artifacts2", "x")));
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_refused_before_any_byte_is_staged()
    {
        var sha = new string('b', 64);
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(sha);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => upload.Begin(sha, 20480L * 1024 * 1024 + 1));
        Assert.Contains("Rft:MaxUploadMiB", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Append(0, [1]));
    }
}
