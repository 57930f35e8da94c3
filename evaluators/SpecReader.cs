using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators;

/// <summary>An error in a configuration object, naming the field's path (<c>evaluator.tolerance</c>) and the fix.</summary>
public sealed class SpecException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}

/// <summary>
/// Reads typed fields out of a configuration object, remembering which keys were read so that
/// unknown keys can be refused (a typo must not silently fall back to a default).
/// </summary>
public sealed class SpecReader(JsonObject node, string path)
{
    readonly HashSet<string> used = new();

    public JsonObject Node => node;
    public string Path => path;
    public string At(string key) => path.Length == 0 ? key : $"{path}.{key}";

    public bool Has(string key) { used.Add(key); return node[key] is not null; }

    public JsonNode? Raw(string key) { used.Add(key); return node[key]; }

    public string? String(string key, string? fallback = null)
    {
        used.Add(key);
        return node[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
            _ => throw new SpecException(At(key), "must be a string."),
        };
    }

    public string RequiredString(string key) => String(key) ?? throw new SpecException(At(key), "is required.");

    public double Double(string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        used.Add(key);
        if (node[key] is null) return fallback;
        if (node[key] is not JsonValue v || !v.TryGetValue<double>(out var d) && !(v.TryGetValue<string>(out var s) && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out d)))
            throw new SpecException(At(key), "must be a number.");
        if (d < min || d > max || double.IsNaN(d)) throw new SpecException(At(key), $"is {d}; it must be in [{min}, {max}].");
        return d;
    }

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var d = Double(key, fallback, min, max);
        if (d != Math.Floor(d)) throw new SpecException(At(key), $"must be a whole number (got {d}).");
        return (int)d;
    }

    public bool Bool(string key, bool fallback)
    {
        used.Add(key);
        return node[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            JsonValue v when v.TryGetValue<string>(out var s) && bool.TryParse(s, out var b) => b,
            _ => throw new SpecException(At(key), "must be true or false."),
        };
    }

    public JsonObject? Object(string key)
    {
        used.Add(key);
        return node[key] switch
        {
            null => null,
            JsonObject o => o,
            _ => throw new SpecException(At(key), "must be an object (a mapping)."),
        };
    }

    public List<string>? StringList(string key)
    {
        used.Add(key);
        return node[key] switch
        {
            null => null,
            JsonArray a => a.Select((x, i) => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new SpecException($"{At(key)}[{i}]", "must be a string.")).ToList(),
            JsonValue v when v.TryGetValue<string>(out var s) => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList(),
            _ => throw new SpecException(At(key), "must be a list of strings."),
        };
    }

    /// <summary>Refuses any key that was never read, suggesting the closest known one.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var (key, _) in node)
        {
            if (used.Contains(key)) continue;
            var suggestion = used.OrderBy(u => Levenshtein(u, key)).FirstOrDefault();
            var hint = suggestion is not null && Levenshtein(suggestion, key) <= 3 ? $" Did you mean '{suggestion}'?" : $" Known keys: {string.Join(", ", used.Order())}.";
            throw new SpecException(At(key), $"unknown key.{hint}");
        }
    }

    public static int Levenshtein(string a, string b) => BuiltIn.EditDistance.Levenshtein(a, b);
}
