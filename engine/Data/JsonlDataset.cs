using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Engine.Data;

/// <summary>A problem with one dataset line: file, 1-based line, field and what to do.</summary>
public sealed record DatasetError(string File, int Line, string Field, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Field}: {Message}";
}

/// <summary>Reads JSONL datasets, reporting every bad line with its number rather than stopping at the first.</summary>
public static class JsonlDataset
{
    public static (List<DatasetRow> Rows, List<DatasetError> Errors) Read(string path)
    {
        var rows = new List<DatasetRow>();
        var errors = new List<DatasetError>();
        if (!File.Exists(path))
        {
            errors.Add(new DatasetError(path, 0, "file", "does not exist; check the path (relative paths are relative to the job file)."));
            return (rows, errors);
        }
        foreach (var (lineNumber, line, badByte, bytes) in Utf8Lines.Read(path, MaxLineBytes))
        {
            if (bytes > MaxLineBytes)
            {
                errors.Add(new DatasetError(path, lineNumber, "line", $"is {bytes:N0} bytes; a row may have at most {MaxLineBytes:N0} (4 MiB less 64 KiB: one grain message carries a row to the rollout workers); shorten the row."));
                continue;
            }
            if (badByte >= 0)
            {
                errors.Add(new DatasetError(path, lineNumber, "line", $"is not valid UTF-8 (byte {badByte + 1} of the line); save the file as UTF-8 (a replacement character would be trained on)."));
                continue;
            }
            if (string.IsNullOrWhiteSpace(line)) continue;
            var (row, error) = ReadLine(path, lineNumber, line, bytes);
            if (row is not null) rows.Add(row);
            else errors.Add(error!);
        }
        if (rows.Count == 0 && errors.Count == 0)
            errors.Add(new DatasetError(path, 0, "file", "has no rows."));
        return (rows, errors);
    }

    /// <summary>
    /// A row must fit one grain message when the job sends it to the rollout workers (the cluster's
    /// <c>JobStepRunner.MaxRequestBytes</c>, 4 MiB less 64 KiB for the request's other fields), so a
    /// longer line is refused here, by its number, before it is ever held in memory whole.
    /// </summary>
    public const int MaxLineBytes = (4 << 20) - (64 << 10);

    /// <summary>
    /// One line, read completely inside its own error handling: the JSON is parsed strictly and every
    /// string read once (<see cref="StrictJson"/>), so no problem of the line surfaces later without
    /// its number. Returns a row or an error.
    /// </summary>
    static (DatasetRow? Row, DatasetError? Error) ReadLine(string path, int lineNumber, string line, long bytes)
    {
        DatasetError Error(string field, string message) => new(path, lineNumber, field, message);
        JsonObject o;
        try
        {
            o = StrictJson.Parse(line) as JsonObject ?? throw new JsonException("the line is not a JSON object");
        }
        catch (JsonException e)
        {
            return (null, Error("line", $"not valid JSON ({e.Message}); each line must be one JSON object with each key once."));
        }
        if (StrictJson.InvalidText(o) is string field)
            return (null, Error(field.StartsWith('$') ? "line" + field[1..] : field, "holds a lone UTF-16 surrogate escape (such as \\ud800 without its pair), which is no character; write the character itself, or its full surrogate pair."));
        // Rows travel re-encoded (non-ASCII and HTML-sensitive characters escaped as \uXXXX, up to 6 bytes
        // for 1), so a line under the cap can still outgrow a message: check where that is possible.
        if (bytes > MaxLineBytes / 6 && System.Text.Encoding.UTF8.GetByteCount(o.ToJsonString()) is var encoded && encoded > MaxLineBytes)
            return (null, Error("line", $"is {encoded:N0} bytes once encoded for the cluster (non-ASCII characters travel as \\uXXXX escapes); a row may have at most {MaxLineBytes:N0}; shorten the row."));
        if (o["messages"] is null)
            return (null, Error("messages", "missing; each row needs a 'messages' array of {role, content}."));
        try
        {
            var messages = ChatMessage.ParseList(o["messages"], "messages");
            if (messages.Count == 0) throw new InvalidDataException("messages: the array is empty.");
            List<JsonObject>? tools = null;
            if (o["tools"] is JsonNode t)
            {
                if (t is not JsonArray array || array.Any(x => x is not JsonObject))
                    throw new InvalidDataException("tools: must be an array of OpenAI function objects.");
                tools = array.Select(x => (JsonObject)x!.DeepClone()).ToList();
            }
            return (new DatasetRow(lineNumber, messages, tools, o["ground_truth"]?.DeepClone(), o), null);
        }
        catch (InvalidDataException e)
        {
            var (f, message) = FieldOf(e.Message);
            return (null, Error(f, message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException)
        {
            // A problem the checks above do not name yet still keeps its line number, never escapes as a crash.
            return (null, Error("line", $"cannot be read ({e.Message}); fix the row's JSON."));
        }
    }

    /// <summary>"messages: messages[2].content must be …" → ("messages[2].content", "must be …"); "tools: must be …" → ("tools", "must be …").</summary>
    static (string Field, string Message) FieldOf(string error)
    {
        var colon = error.IndexOf(':');
        if (colon <= 0) return ("messages", error);
        var (field, rest) = (error[..colon], error[(colon + 1)..].Trim());
        var path = System.Text.RegularExpressions.Regex.Match(rest, @"^messages(\[\d+\]|\.[A-Za-z_]+)+");
        return path.Success ? (path.Value, rest[path.Length..].Trim()) : (field, rest);
    }

    /// <summary>Reads a dataset or throws one error listing (up to ten of) its bad lines.</summary>
    public static List<DatasetRow> ReadOrThrow(string path)
    {
        var (rows, errors) = Read(path);
        if (errors.Count == 0) return rows;
        var shown = string.Join("\n", errors.Take(10).Select(e => "  " + e));
        var more = errors.Count > 10 ? $"\n  … and {errors.Count - 10} more" : "";
        throw new InvalidDataException($"{path}: {errors.Count} bad line(s):\n{shown}{more}");
    }
}
