namespace Orleans.Rft.Client.Http;

/// <summary>
/// A minimal reader of a <c>text/event-stream</c> body (the WHATWG "server-sent events" format as
/// OpenAI-compatible servers write it): lines <c>data: …</c>, an event ending at a blank line, several
/// <c>data</c> lines of one event joined with '\n'; comments (<c>:</c>) and other fields are skipped.
/// </summary>
public static class ServerSentEvents
{
    /// <summary>The events' data; a stream cut without its closing blank line still gives its last event (a chat answer's last chunk).</summary>
    public static async IAsyncEnumerable<string> ReadDataAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        await foreach (var e in NamedServerSentEvents.ReadAsync(body, Timeout.InfiniteTimeSpan, cancellation, keepUnterminated: true)) yield return e.Data;
    }
}

/// <summary>One named server-sent event: <c>event: {Name}</c> and its joined <c>data</c> lines.</summary>
public sealed record NamedEvent(string Name, string Data);

/// <summary>
/// Named events (<c>event:</c> + <c>data:</c>), as the jobs API's <c>/events</c> stream writes them; an event
/// without a name is <c>message</c> (the WHATWG default). A read that waits past <paramref name="silence"/>
/// (the server sends a heartbeat comment far more often) ends the stream with a <see cref="TimeoutException"/>,
/// so a connection that died without a reset is noticed.
/// </summary>
public static class NamedServerSentEvents
{
    public static async IAsyncEnumerable<NamedEvent> ReadAsync(Stream body, TimeSpan silence, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation, bool keepUnterminated = false)
    {
        using var reader = new StreamReader(body, System.Text.Encoding.UTF8);
        var data = new System.Text.StringBuilder();
        string name = "message";
        bool any = false;
        while (true)
        {
            string? line;
            using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                quiet.CancelAfter(silence);
                try { line = await reader.ReadLineAsync(quiet.Token); }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { throw new TimeoutException($"the event stream was silent for {silence.TotalSeconds:F0} s."); }
            }
            if (line is null)
            {
                if (any && keepUnterminated) yield return new NamedEvent(name, data.ToString());
                yield break;
            }
            if (line.Length == 0)
            {
                if (any) yield return new NamedEvent(name, data.ToString());
                data.Clear();
                name = "message";
                any = false;
                continue;
            }
            if (line[0] == ':') continue;
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            if (field == "event") name = value;
            else if (field == "data")
            {
                if (any) data.Append('\n');
                data.Append(value);
                any = true;
            }
        }
    }
}
