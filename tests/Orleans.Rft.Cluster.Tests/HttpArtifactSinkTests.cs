using System.Text;
using Orleans.Rft.Client.Http;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The console's HTTP uploader: what a killed <c>rft submit</c> had sent is not sent again.</summary>
[Collection(JobsHttpCollection.Name)]
public sealed class HttpArtifactSinkTests(JobsHttpFixture fx)
{
    [Fact]
    public async Task An_upload_cut_off_in_another_process_resumes_from_the_silos_count_and_sends_only_the_rest()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 30_000).Select(i => $"row {i} of a killed upload\n")));
        var sha = JobsHttpUploads.Sha256(bytes);
        var sessions = Path.Combine(fx.Toy.Root, "sink-sessions");
        Directory.CreateDirectory(sessions);
        using (var raw = fx.Http()) // the first rft submit: began, sent 100,000 bytes, was killed
        {
            var session = (await JobsHttpUploads.Begin(raw, sha, bytes.Length))["session"]!.GetValue<string>();
            Assert.Equal(200, (await JobsHttpUploads.Put(raw, sha, session, 0, bytes.AsMemory(0, 100_000))).Status);
            await File.WriteAllTextAsync(Path.Combine(sessions, $"{sha}-{bytes.Length}.session"), session);
        }
        using var client = new RftHttpClient(fx.Host.BaseUrl, JobsHttpFixture.Key);
        var notes = new List<string>();
        var sent = await new HttpArtifactSink(client, sessions).Upload(new MemoryStream(bytes), sha, "data.txt", notes.Add, CancellationToken.None);
        Assert.Equal(bytes.Length - 100_000, sent);
        Assert.Contains(notes, n => n.StartsWith("data.txt: resuming at 100,000", StringComparison.Ordinal));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(fx.Options().ArtifactsPath!, ArtifactReference.UploadPath(sha))));
        Assert.Empty(Directory.EnumerateFiles(sessions)); // done: nothing left to resume
        Assert.Equal(0, await new HttpArtifactSink(client, sessions).Upload(new MemoryStream(bytes), sha, "data.txt", null, CancellationToken.None));
    }
}
