using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// The part of JSON Schema (draft 2020-12 keywords) that structured-output rewards use: type, enum,
/// const, properties, required, additionalProperties, items, min/maxItems, minimum/maximum (and
/// exclusive), min/maxLength, pattern, allOf/anyOf/oneOf. Returns the first violation with its path.
/// </summary>
public static class JsonSchemaValidator
{
    public static string? Validate(JsonNode? value, JsonObject schema, string path = "$")
    {
        if (schema["type"] is JsonNode type)
        {
            var types = type is JsonArray a ? a.Select(t => t!.GetValue<string>()).ToArray() : [type.GetValue<string>()];
            if (!types.Any(t => IsType(value, t))) return $"{path}: expected {string.Join(" or ", types)}, got {Describe(value)}";
        }
        if (schema["enum"] is JsonArray options && !options.Any(o => JsonNode.DeepEquals(o, value)))
            return $"{path}: {Describe(value)} is not one of {options.ToJsonString()}";
        if (schema["const"] is JsonNode constant && !JsonNode.DeepEquals(constant, value))
            return $"{path}: must equal {constant.ToJsonString()}";
        foreach (var sub in schema["allOf"] as JsonArray ?? [])
            if (Validate(value, sub!.AsObject(), path) is string e) return e;
        if (schema["anyOf"] is JsonArray any && !any.Any(s => Validate(value, s!.AsObject(), path) is null))
            return $"{path}: matches none of anyOf";
        if (schema["oneOf"] is JsonArray one && one.Count(s => Validate(value, s!.AsObject(), path) is null) != 1)
            return $"{path}: must match exactly one of oneOf";
        switch (value)
        {
            case JsonObject o:
                foreach (var name in schema["required"] as JsonArray ?? [])
                    if (!o.ContainsKey(name!.GetValue<string>())) return $"{path}: missing required property '{name}'";
                var props = schema["properties"] as JsonObject;
                foreach (var (key, child) in o)
                {
                    if (props?[key] is JsonObject ps) { if (Validate(child, ps, $"{path}.{key}") is string e) return e; }
                    else if (schema["additionalProperties"] is JsonValue ap && ap.TryGetValue<bool>(out var allowed) && !allowed)
                        return $"{path}: property '{key}' is not allowed";
                    else if (schema["additionalProperties"] is JsonObject aps && Validate(child, aps, $"{path}.{key}") is string e2) return e2;
                }
                break;
            case JsonArray arr:
                if (schema["minItems"] is JsonValue min && arr.Count < min.GetValue<int>()) return $"{path}: fewer than {min} items";
                if (schema["maxItems"] is JsonValue max && arr.Count > max.GetValue<int>()) return $"{path}: more than {max} items";
                if (schema["items"] is JsonObject items)
                    for (int i = 0; i < arr.Count; i++)
                        if (Validate(arr[i], items, $"{path}[{i}]") is string e) return e;
                break;
            case JsonValue v when v.TryGetValue<string>(out var s):
                if (schema["minLength"] is JsonValue minL && s.Length < minL.GetValue<int>()) return $"{path}: shorter than {minL}";
                if (schema["maxLength"] is JsonValue maxL && s.Length > maxL.GetValue<int>()) return $"{path}: longer than {maxL}";
                if (schema["pattern"] is JsonValue p && !Regex.IsMatch(s, p.GetValue<string>(), RegexOptions.None, TimeSpan.FromSeconds(1)))
                    return $"{path}: does not match pattern {p}";
                break;
            case JsonValue v when v.TryGetValue<double>(out var d):
                if (schema["minimum"] is JsonValue mn && d < mn.GetValue<double>()) return $"{path}: {d} < minimum {mn}";
                if (schema["maximum"] is JsonValue mx && d > mx.GetValue<double>()) return $"{path}: {d} > maximum {mx}";
                if (schema["exclusiveMinimum"] is JsonValue emn && d <= emn.GetValue<double>()) return $"{path}: {d} ≤ exclusiveMinimum {emn}";
                if (schema["exclusiveMaximum"] is JsonValue emx && d >= emx.GetValue<double>()) return $"{path}: {d} ≥ exclusiveMaximum {emx}";
                break;
        }
        return null;
    }

    static bool IsType(JsonNode? value, string type) => type switch
    {
        "null" => value is null,
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String,
        "boolean" => value is JsonValue v && v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
        "number" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number,
        "integer" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<double>(out var d) && d == Math.Floor(d),
        _ => false,
    };

    static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => value.GetValueKind().ToString().ToLowerInvariant() + " " + value.ToJsonString(),
    };
}
