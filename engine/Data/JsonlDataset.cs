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
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
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
                var colon = e.Message.IndexOf(':');
                errors.Add(new DatasetError(path, lineNumber, colon > 0 ? e.Message[..colon] : "messages", colon > 0 ? e.Message[(colon + 1)..].Trim() : e.Message));
            }
        }
        if (rows.Count == 0 && errors.Count == 0)
            errors.Add(new DatasetError(path, 0, "file", "has no rows."));
        return (rows, errors);
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
