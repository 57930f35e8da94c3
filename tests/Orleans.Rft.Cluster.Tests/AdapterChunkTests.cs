using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>GetAdapterChunk serves byte ranges of this job's adapters only, and says what is wrong with a bad range.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AdapterChunkTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_chunk_is_read_only_from_the_jobs_own_folder_not_from_a_job_whose_id_merely_starts_the_same()
    {
        var store = new LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        var bytes = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        await store.WriteAsync("jobs/chunk/adapters/g0001-v000001/adapter_model.safetensors", bytes);
        await store.WriteAsync("jobs/chunk-other/adapters/g0001-v000001/adapter_model.safetensors", bytes);
        var job = fixture.Cluster.Client.GetGrain<IJobGrain>("chunk");

        Assert.Equal(bytes[100..350], await job.GetAdapterChunk("jobs/chunk/adapters/g0001-v000001", 100, 250));
        Assert.Equal(bytes[900..], await job.GetAdapterChunk("jobs/chunk/adapters/g0001-v000001", 900, 4096)); // the tail only
        Assert.Empty(await job.GetAdapterChunk("jobs/chunk/adapters/g0001-v000001", 1000, 10));               // exactly at the end

        var other = await Assert.ThrowsAsync<ArgumentException>(() => job.GetAdapterChunk("jobs/chunk-other/adapters/g0001-v000001", 0, 10));
        Assert.Contains("not an artifact of job 'chunk'", other.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => job.GetAdapterChunk("jobs/chunk/../chunk-other/adapters/g0001-v000001", 0, 10));
        var past = await Assert.ThrowsAsync<ArgumentException>(() => job.GetAdapterChunk("jobs/chunk/adapters/g0001-v000001", 1001, 10));
        Assert.Contains("offset 1001 is outside", past.Message);
        var negative = await Assert.ThrowsAsync<ArgumentException>(() => job.GetAdapterChunk("jobs/chunk/adapters/g0001-v000001", -1, 10));
        Assert.Contains("offset -1 is outside", negative.Message);
    }
}
