using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Http;

/// <summary>A POST that did not get a usable answer: the reason names the status or the failure, never a header.</summary>
public sealed class HttpEvaluatorException(string message) : Exception(message);

/// <summary>
/// POSTs JSON and returns the 2xx body. A 5xx answer or a failed connection is retried with
/// exponential backoff (0.25 s, 0.5 s, 1 s, … at most 4 s between tries) while time is left of the
/// whole call's <c>timeout</c>; a 4xx is the caller's mistake and is never retried. One shared
/// <see cref="HttpClient"/> (connections recycled every few minutes, so DNS changes are seen).
/// </summary>
public static class RetryingPost
{
    static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) })
    {
        Timeout = Timeout.InfiniteTimeSpan, // each call carries its own deadline
    };

    static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250), MaxBackoff = TimeSpan.FromSeconds(4);

    /// <summary>Bodies longer than this are refused: a grader's answer is a few hundred bytes.</summary>
    public const int MaxAnswerBytes = 4 << 20;

    /// <param name="what">names the server in reasons (<c>grader</c>, <c>judge</c>)</param>
    public static async Task<string> PostAsync(Uri url, JsonNode body, IReadOnlyDictionary<string, string> headers, TimeSpan timeout, string what, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var payload = body.ToJsonString();
        var backoff = FirstBackoff;
        string? lastFailure = null;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
                foreach (var (name, value) in headers)
                    if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content.Headers.TryAddWithoutValidation(name, value);
                using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                var status = (int)response.StatusCode;
                var text = await ReadBounded(response, deadline.Token);
                if (status is >= 200 and < 300) return text;
                if (status < 500) throw new HttpEvaluatorException($"the {what} answered HTTP {status} {response.ReasonPhrase}: {Short(text)} (not retried: a 4xx means the request is wrong)");
                lastFailure = $"HTTP {status} {response.ReasonPhrase}: {Short(text)}";
            }
            catch (HttpRequestException e) { lastFailure = $"connection failed ({e.HttpRequestError}: {e.Message})"; }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
            {
                throw new HttpEvaluatorException($"the {what} gave no answer within timeout_seconds ({timeout.TotalSeconds:G3} s) after {attempt} tr{(attempt == 1 ? "y" : "ies")}{(lastFailure is null ? "" : $"; last: {lastFailure}")}");
            }
            try { await Task.Delay(backoff, deadline.Token); }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
            {
                throw new HttpEvaluatorException($"the {what} failed {attempt} tr{(attempt == 1 ? "y" : "ies")} within timeout_seconds ({timeout.TotalSeconds:G3} s); last: {lastFailure}");
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    static async Task<string> ReadBounded(HttpResponseMessage response, CancellationToken cancellation)
    {
        if (response.Content.Headers.ContentLength > MaxAnswerBytes) throw new HttpEvaluatorException($"the answer is {response.Content.Headers.ContentLength:N0} bytes, over {MaxAnswerBytes:N0}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellation)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxAnswerBytes) throw new HttpEvaluatorException($"the answer is over {MaxAnswerBytes:N0} bytes");
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static string Short(string s)
    {
        s = s.Replace('\n', ' ').Trim();
        return s.Length <= 200 ? s : s[..197] + "…";
    }

    /// <summary>An absolute http(s) URL from a spec key, or a spec error.</summary>
    public static Uri Url(string text, string at) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new SpecException(at, $"'{text}' is not an http(s) URL; give e.g. http://grader:8000/score.");
}
