using System.Net;
using System.Text;
using Orleans.Rft.Client.Http;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Silo.Http;
using Orleans.Runtime;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// What the silo answers when a call fails in a way no endpoint expected, and what <c>rft … --url</c> then
/// prints. Seen on a local cluster: right after <c>cluster.sh kill 1</c>, <c>rft jobs --url</c> on another
/// silo printed a 500 whose message was Orleans' rejection with the inner exception's whole stack trace.
/// </summary>
public sealed class SiloUnexpectedErrorTests
{
    // What Orleans 10 put in the rejection's message when the silo holding a grain had just been killed.
    const string RejectionMessage =
        "Exception while sending message: Orleans.Runtime.Messaging.ConnectionFailedException: Unable to connect to endpoint S192.0.2.2:49749:154690584. See InnerException\n" +
        " ---> Orleans.Networking.Shared.SocketConnectionException: Unable to connect to 192.0.2.2:49749. Error: ConnectionRefused\n" +
        "   at Orleans.Networking.Shared.SocketConnectionFactory.ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken) in /_/src/Orleans.Core/Networking/Shared/SocketConnectionFactory.cs:line 67\n" +
        "   --- End of inner exception stack trace ---";

    /// <summary>Orleans makes its rejections itself (the constructor is internal); so does this test.</summary>
    static OrleansMessageRejectionException Rejection(string message) =>
        (OrleansMessageRejectionException)Activator.CreateInstance(typeof(OrleansMessageRejectionException),
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, null, [message], null)!;

    sealed class Canned(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }

    [Fact]
    public async Task An_unreachable_silo_is_a_one_line_503_cluster_unavailable_and_the_console_prints_no_stack_trace()
    {
        foreach (var e in new Exception[] { Rejection(RejectionMessage), new SiloUnavailableException(RejectionMessage) })
        {
            var error = OpenAIErrors.Unexpected(e);
            Assert.Equal(503, error.Status);
            Assert.Equal("cluster_unavailable", error.Code);
            Assert.Equal("server_error", error.Type);
            Assert.DoesNotContain('\n', error.Message);
            Assert.DoesNotContain("   at ", error.Message);
            Assert.Contains("Unable to connect to endpoint S192.0.2.2:49749", error.Message);
            Assert.Contains("retry", error.Message);

            // the console gets that body and says it in one line, as an unavailable cluster (exit 1)
            await using var cluster = new HttpCluster(new RftHttpClient(new Uri("http://silo.test:8080/"), "k",
                new Canned((HttpStatusCode)error.Status, error.ToJson().ToJsonString())));
            var printed = await Assert.ThrowsAsync<ClusterUnavailableException>(() => cluster.Jobs(CancellationToken.None));
            Assert.DoesNotContain('\n', printed.Message);
            Assert.Contains("(503)", printed.Message);
        }
    }

    [Fact]
    public void Any_other_unexpected_exception_is_a_500_with_the_first_line_of_its_message_redacted()
    {
        var error = OpenAIErrors.Unexpected(new InvalidOperationException(
            "the store failed: DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net\n   at Somewhere.Else()"));
        Assert.Equal(500, error.Status);
        Assert.Null(error.Code);
        Assert.StartsWith("InvalidOperationException: the store failed", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("c2VjcmV0", error.Message);
        Assert.DoesNotContain("Somewhere.Else", error.Message);
    }
}
