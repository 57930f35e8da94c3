using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Reads one field of a JSON request body with its expected type and range; anything else is a 400
/// naming the field, what it got and what it takes. A JSON null reads as absent, as OpenAI treats it.
/// </summary>
public static class RequestFields
{
    /// <summary>
    /// The request's JSON object body. With <paramref name="maxBytes"/>, a longer body is refused with 413
    /// before it is parsed (read no further than the limit): for small control messages such as a log line.
    /// <paramref name="whatFits"/> tells the caller, in the 413, what the endpoint's bodies are (default: log lines and rollout statuses).
    /// </summary>
    public static async Task<JsonObject> ReadBodyAsync(Microsoft.AspNetCore.Http.HttpRequest request, CancellationToken cancellation, int? maxBytes = null, string? whatFits = null)
    {
        JsonNode? node;
        try { node = await JsonNode.ParseAsync(maxBytes is int max ? await ReadCappedAsync(request, max, whatFits, cancellation) : request.Body, cancellationToken: cancellation); }
        catch (JsonException e) { throw OpenAIError.BadRequest($"The request body is not valid JSON ({e.Message}); send a JSON object.", null); }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) // Kestrel's own refusals while reading: past MaxRequestBodySize (413), a body cut short (400)
        {
            throw new OpenAIError(e.StatusCode, e.StatusCode == Microsoft.AspNetCore.Http.StatusCodes.Status413PayloadTooLarge
                ? $"The request body is too large: {e.Message} Send a shorter prompt."
                : $"The request body could not be read: {e.Message}", null, "invalid_request_error", e.StatusCode == 413 ? "request_too_large" : null);
        }
        var body = node as JsonObject ?? throw OpenAIError.BadRequest("The request body must be a JSON object.", null);
        // A lone surrogate escape ("\ud800") parses but throws when its string is read: refuse it here, naming where it is.
        if (Orleans.Rft.Engine.Data.StrictJson.InvalidText(body) is string bad)
            throw OpenAIError.BadRequest($"{bad} holds a lone UTF-16 surrogate escape (such as \\ud800 without its pair), which is no character; send the character itself, or its full surrogate pair.", bad.Split(' ')[0]);
        return body;
    }

    /// <summary>The body in memory, or 413 in OpenAI's shape once it passes <paramref name="maxBytes"/>.</summary>
    static async Task<Stream> ReadCappedAsync(Microsoft.AspNetCore.Http.HttpRequest request, int maxBytes, string? whatFits, CancellationToken cancellation)
    {
        OpenAIError TooLarge() => new(Microsoft.AspNetCore.Http.StatusCodes.Status413PayloadTooLarge,
            $"The request body is over {maxBytes / 1024} KiB, the most this endpoint takes ({whatFits ?? "a log line or a rollout status is a few hundred bytes"}).", null, "invalid_request_error", "request_too_large");
        if (request.ContentLength > maxBytes) throw TooLarge();
        var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (body.Length + n > maxBytes) throw TooLarge();
            body.Write(chunk, 0, n);
        }
        body.Position = 0;
        return body;
    }

    public static string? String(JsonObject body, string field) => body[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Wrong(field, other, "a string"),
    };

    public static bool? Bool(JsonObject body, string field) => body[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw Wrong(field, other, "true or false"),
    };

    public static long? Long(JsonObject body, string field, long min, long max)
    {
        if (body[field] is null) return null;
        if (body[field] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var value))
            throw Wrong(field, body[field], "an integer");
        if (value < min || value > max) throw OpenAIError.BadRequest($"'{field}' is {value}; it must be between {min} and {max}.", field);
        return value;
    }

    public static int? Int(JsonObject body, string field, int min, int max) => (int?)Long(body, field, min, max);

    public static double? Double(JsonObject body, string field, double min, double max, bool minExclusive = false)
    {
        if (body[field] is null) return null;
        if (body[field] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw Wrong(field, body[field], "a number");
        var value = v.GetValue<double>();
        if (value < min || value > max || (minExclusive && value == min))
            throw OpenAIError.BadRequest($"'{field}' is {value}; it must be {(minExclusive ? "above" : "at least")} {min} and at most {max}.", field);
        return value;
    }

    /// <summary><c>stop</c>: a string or a list of strings.</summary>
    public static IReadOnlyList<string> Strings(JsonObject body, string field) => body[field] switch
    {
        null => [],
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
        JsonArray a => a.Select((s, i) => s is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : throw Wrong($"{field}[{i}]", s, "a string")).ToList(),
        var other => throw Wrong(field, other, "a string or a list of strings"),
    };

    public static JsonObject? Object(JsonObject body, string field) => body[field] switch
    {
        null => null,
        JsonObject o => o,
        var other => throw Wrong(field, other, "an object"),
    };

    /// <summary>A field this server does not implement: accepted only at the value that changes nothing.</summary>
    public static void Unsupported(JsonObject body, string field, Func<JsonNode, bool> harmless, string fix)
    {
        if (body[field] is { } value && !harmless(value)) throw OpenAIError.BadRequest($"'{field}' is not supported by this server; {fix}.", field);
    }

    public static OpenAIError Wrong(string field, JsonNode? got, string expected) =>
        OpenAIError.BadRequest($"'{field}' must be {expected} (got {Kind(got)}).", field);

    static string Kind(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {node.ToJsonString()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        var k => k.ToString()!,
    };
}
