using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// The one JSON shape of the jobs API and of every <c>--json</c> output, like the OpenAI and Fireworks
/// APIs: snake_case keys (<c>job_id</c>), enums as snake_case names (<c>"status": "completed"</c>, never
/// a number that changes meaning when a member is added), NaN/∞ as <c>"NaN"</c>/<c>"Infinity"</c> (a
/// skipped update reports its NaN loss as it was). Dictionary keys stay as written: they are user names
/// (a reward's metric <c>format_ok</c>, a model's name), not C# properties.
/// </summary>
public static class RftJson
{
    /// <summary>Read-only, shared: the HTTP endpoint, the console's HTTP client and its <c>--json</c> output.</summary>
    public static readonly JsonSerializerOptions Options = Create(indented: false);

    /// <summary>The same, indented, for what people read (<c>--json</c> in a terminal).</summary>
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            WriteIndented = indented,
            // Completions and reasons hold '<', '>' and non-ASCII text: keep them readable, not \u-escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static JsonNode ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Options) ?? throw new ArgumentNullException(nameof(value));

    public static JsonObject ToObject<T>(T value) => ToNode(value).AsObject();

    /// <summary>An enum value as the JSON shows it (<c>Completed</c> → <c>completed</c>), for messages that quote it.</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"expected a {typeof(T).Name}, got null.");
}
