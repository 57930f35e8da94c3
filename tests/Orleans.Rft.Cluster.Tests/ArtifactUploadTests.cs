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
        Assert.StartsWith("artifact:models/", uploaded.BaseModel);
        Assert.Matches("^artifact:datasets/[0-9a-f]{64}/train.jsonl$", uploaded.Dataset);
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
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>("datasets/corrupt/train.jsonl");
        var bytes = "{\"messages\": []}\n"u8.ToArray();
        var wrongSha = new string('0', 64);
        Assert.Equal(0, await upload.Begin(wrongSha, bytes.Length));
        await upload.Append(0, bytes);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => upload.Complete());
        Assert.Contains("differs from the announced", error.Message);
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Empty(await store.ListAsync("datasets/corrupt"));
    }

    [Fact]
    public async Task An_empty_file_uploads_and_uploads_again()
    {
        var empty = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([]));
        for (int i = 0; i < 2; i++)
        {
            var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>("models/empty-test/added_tokens.json");
            Assert.Equal(0, await upload.Begin(empty, 0));
            await upload.Complete();
        }
        var store = new Grains.Services.LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.Equal(["models/empty-test/added_tokens.json"], await store.ListAsync("models/empty-test"));
    }

    [Fact]
    public async Task A_chunk_out_of_order_is_refused_with_the_offset_the_grain_expects()
    {
        var upload = fixture.Cluster.Client.GetGrain<IArtifactUploadGrain>("datasets/gap/train.jsonl");
        Assert.Equal(0, await upload.Begin(new string('a', 64), 10));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Append(4, new byte[2]));
        Assert.Contains("expected 0", error.Message);
    }
}
