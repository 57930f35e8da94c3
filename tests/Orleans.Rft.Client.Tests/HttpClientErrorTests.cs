using System.Net;
using System.Text;
using Orleans.Rft.Client.Http;
using Orleans.Rft.Client.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// What <c>rft … --url</c> says when something other than the jobs API answers (a proxy's HTML page, a
/// login page with 200): one line naming the URL once, the status and the fix, never the page itself.
/// </summary>
public sealed class HttpClientErrorTests
{
    const string Page = "<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center></body></html>\n";

    /// <summary>Answers every request with one status, content type and body, as a proxy in front of a dead silo would.</summary>
    sealed class Canned(HttpStatusCode status, string mediaType, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, mediaType) });
    }

    static HttpCluster Cluster(HttpStatusCode status, string mediaType = "text/html", string body = Page) =>
        new(new RftHttpClient(new Uri("http://proxy.test:8080/"), "k", new Canned(status, mediaType, body)));

    [Theory]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task A_proxys_5xx_html_page_is_one_line_naming_the_url_once_and_exits_as_unavailable(HttpStatusCode status)
    {
        await using var cluster = Cluster(status);
        var e = await Assert.ThrowsAsync<ClusterUnavailableException>(() => cluster.Get("job-1", CancellationToken.None));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("<html", e.Message);
        Assert.Contains($"GET http://proxy.test:8080/v1/rft/jobs/job-1 answered {(int)status}", e.Message);
        // streams (watch, export) open with the headers first; that message names the URL once too
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/rft/jobs/job-1/events");
        var watch = await Assert.ThrowsAsync<ClusterUnavailableException>(() => cluster.Client.OpenAsync(request, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(1, CountOf(watch.Message, "http://"));
        Assert.Contains("/v1/rft/jobs/job-1/events", watch.Message);
    }

    [Fact]
    public async Task A_404_html_page_is_a_refusal_that_asks_whether_url_is_the_silos_endpoint()
    {
        await using var cluster = Cluster(HttpStatusCode.NotFound);
        var e = await Assert.ThrowsAsync<RftHttpRefusal>(() => cluster.Get("job-1", CancellationToken.None));
        Assert.Contains("http://proxy.test:8080/v1/rft/jobs/job-1 answered 404", e.Message);
        Assert.Contains("--url", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Watching_a_url_that_answers_200_html_fails_at_once_instead_of_reconnecting()
    {
        await using var cluster = Cluster(HttpStatusCode.OK);
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<ClusterUnavailableException>(async () => { await foreach (var _ in cluster.Follow("job-1", CancellationToken.None)) { } });
        Assert.Contains("not an event stream", e.Message);
        Assert.Contains("--url", e.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.5), "it waited to reconnect"); // a reconnect waits 2 s first
    }

    [Fact]
    public async Task An_error_body_whose_message_is_not_a_string_is_read_as_no_message_not_a_crash()
    {
        await using var cluster = Cluster(HttpStatusCode.BadRequest, "application/json", """{"error": {"message": 42, "code": ["x"]}}""");
        var e = await Assert.ThrowsAsync<RftHttpRefusal>(() => cluster.Get("job-1", CancellationToken.None));
        Assert.Contains("answered 400", e.Message);
    }

    static int CountOf(string text, string part) => (text.Length - text.Replace(part, "").Length) / part.Length;
}
