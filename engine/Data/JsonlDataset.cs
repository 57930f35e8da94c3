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
        foreach (var (lineNumber, line, badByte) in Utf8Lines(path))
        {
            if (badByte >= 0)
            {
                errors.Add(new DatasetError(path, lineNumber, "line", $"is not valid UTF-8 (byte {badByte + 1} of the line); save the file as UTF-8 (a replacement character would be trained on)."));
                continue;
            }
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject o;
            try
            {
                o = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("the line is not a JSON object");
            }
            catch (JsonException e)
            {
                errors.Add(new DatasetError(path, lineNumber, "line", $"not valid JSON ({e.Message}); each line must be one JSON object."));
                continue;
            }
            if (o["messages"] is null)
            {
                errors.Add(new DatasetError(path, lineNumber, "messages", "missing; each row needs a 'messages' array of {role, content}."));
                continue;
            }
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
                rows.Add(new DatasetRow(lineNumber, messages, tools, o["ground_truth"]?.DeepClone(), o));
            }
            catch (InvalidDataException e)
            {
                var (field, message) = FieldOf(e.Message);
                errors.Add(new DatasetError(path, lineNumber, field, message));
            }
        }
        if (rows.Count == 0 && errors.Count == 0)
            errors.Add(new DatasetError(path, 0, "file", "has no rows."));
        return (rows, errors);
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

    /// <summary>
    /// The file's lines, numbered from 1, each decoded as strict UTF-8: a line with an invalid byte
    /// comes back with that byte's offset (≥ 0) instead of being read with replacement characters.
    /// A UTF-8 byte-order mark and '\r' line ends are accepted.
    /// </summary>
    static IEnumerable<(int Number, string Text, int BadByte)> Utf8Lines(string path)
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        using var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        var line = new MemoryStream();
        int number = 0, b;
        do
        {
            b = stream.ReadByte();
            if (b != '\n' && b != -1) { line.WriteByte((byte)b); continue; }
            if (b == -1 && line.Length == 0) break;
            number++;
            var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
            if (number == 1 && bytes.StartsWith(Utf8Bom)) bytes = bytes[3..];
            if (bytes.EndsWith("\r"u8)) bytes = bytes[..^1];
            string text;
            int bad = -1;
            try { text = strict.GetString(bytes); }
            catch (DecoderFallbackException e) { text = ""; bad = Math.Max(e.Index, 0); }
            yield return (number, text, bad);
            line.SetLength(0);
        }
        while (b != -1);
    }

    static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

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
