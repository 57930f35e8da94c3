namespace Orleans.Rft.Client.Http;

/// <summary>
/// A minimal reader of a <c>text/event-stream</c> body (the WHATWG "server-sent events" format as
/// OpenAI-compatible servers write it): lines <c>data: …</c>, an event ending at a blank line, several
/// <c>data</c> lines of one event joined with '\n'; comments (<c>:</c>) and other fields are skipped.
/// </summary>
public static class ServerSentEvents
{
    public static async IAsyncEnumerable<string> ReadDataAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        using var reader = new StreamReader(body, System.Text.Encoding.UTF8);
        var data = new System.Text.StringBuilder();
        bool any = false;
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
            {
                if (any) yield return data.ToString();
                data.Clear();
                any = false;
                continue;
            }
            if (line[0] == ':' || !line.StartsWith("data", StringComparison.Ordinal)) continue;
            var value = line.Length > 4 && line[4] == ':' ? line[5..] : line.Length == 4 ? "" : null;
            if (value is null) continue; // a field whose name merely starts with "data"
            if (value.StartsWith(' ')) value = value[1..];
            if (any) data.Append('\n');
            data.Append(value);
            any = true;
        }
        if (any) yield return data.ToString(); // a stream cut without the closing blank line
    }
}
