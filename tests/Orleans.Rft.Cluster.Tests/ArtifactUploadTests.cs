using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ArtifactUploadTests(ClusterFixture fixture)
{
    static readonly Guid Session = Guid.NewGuid();

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
        Assert.Equal(0, await upload.Begin(Session, victim, bytes.Length));
        await upload.Append(Session, 0, bytes);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => upload.Complete(Session));
        Assert.Contains("differs from the announced", error.Message);
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.False(await store.ExistsAsync(ArtifactReference.UploadPath(victim)));
        Assert.Equal(0, await upload.Begin(Session, victim, bytes.Length)); // not "already uploaded": nothing is there
    }

    [Fact]
    public async Task Two_clients_uploading_the_same_new_multi_chunk_file_at_once_both_succeed_and_the_store_holds_its_bytes()
    {
        var local = Path.Combine(fixture.Root, "concurrent-upload");
        Directory.CreateDirectory(local);
        var file = Path.Combine(local, "big.jsonl");
        var bytes = new byte[MessageLimits.MaxChunkBytes * 2 + 12345]; // three chunks each
        new Random(Guid.NewGuid().GetHashCode()).NextBytes(bytes);                // new to the store on every run
        await File.WriteAllBytesAsync(file, bytes);
        var spec = fixture.Spec("concurrent-upload") with { Dataset = file, EvalDataset = null };
        var uploads = Enumerable.Range(0, 2).Select(_ => new ArtifactUploader(fixture.Cluster.Client).UploadInputs(spec, CancellationToken.None)).ToList();
        var done = await Task.WhenAll(uploads);
        Assert.Equal(done[0].Dataset, done[1].Dataset);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Equal(bytes, await store.ReadAsync(ArtifactReference.UploadPath(sha)));
    }

    [Fact]
    public async Task Each_session_stages_its_own_bytes_so_one_clients_complete_never_discards_anothers_upload()
    {
        var bytes = new byte[100];
        new Random(Guid.NewGuid().GetHashCode()).NextBytes(bytes);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(sha);
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(0, await upload.Begin(a, sha, bytes.Length));
        Assert.Equal(0, await upload.Begin(b, sha, bytes.Length));
        await upload.Append(a, 0, bytes[..60]);
        await upload.Append(b, 0, bytes[..40]);              // its own offset, not a's
        Assert.Equal(40, await upload.Begin(b, sha, bytes.Length)); // resumes where b stopped
        await upload.Append(a, 60, bytes[60..]);
        await upload.Complete(a);
        await upload.Append(b, 40, bytes[40..]);             // a's Complete left b's bytes alone
        await upload.Complete(b);
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Equal(bytes, await store.ReadAsync(ArtifactReference.UploadPath(sha)));
        Assert.Equal(bytes.Length, await upload.Begin(Guid.NewGuid(), sha, bytes.Length));
    }

    [Fact]
    public async Task An_empty_file_uploads_and_uploads_again()
    {
        var empty = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([]));
        for (int i = 0; i < 2; i++)
        {
            var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(empty);
            Assert.Equal(0, await upload.Begin(Session, empty, 0));
            await upload.Complete(Session);
        }
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Contains($"uploads/sha256/{empty}", await store.ListAsync("uploads/sha256"));
    }

    [Fact]
    public async Task A_chunk_out_of_order_is_refused_with_the_offset_the_grain_expects()
    {
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(new string('a', 64));
        Assert.Equal(0, await upload.Begin(Session, new string('a', 64), 10));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Append(Session, 4, new byte[2]));
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
        var error = await Assert.ThrowsAsync<ArgumentException>(() => upload.Begin(Session, sha, bytes.Length));
        Assert.Contains("must be the content's lower-case SHA-256", error.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => upload.Append(Session, 0, bytes));
        await Assert.ThrowsAnyAsync<Exception>(() => upload.Complete(Session));
        var artifacts = Path.Combine(fixture.Root, "artifacts");
        if (!Path.IsPathRooted(key)) Assert.False(File.Exists(Path.GetFullPath(Path.Combine(artifacts, key.Replace('\\', '/')))));
        Assert.False(File.Exists(Path.Combine(fixture.Root, "artifacts2", "x")));
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_refused_before_any_byte_is_staged()
    {
        var sha = new string('b', 64);
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>(sha);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => upload.Begin(Session, sha, 20480L * 1024 * 1024 + 1));
        Assert.Contains("Rft:MaxUploadMiB", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Append(Session, 0, [1]));
    }
}
