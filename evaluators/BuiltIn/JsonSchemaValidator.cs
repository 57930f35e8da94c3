using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// The part of JSON Schema (draft 2020-12 keywords) that structured-output rewards use: type, enum,
/// const, properties, required, additionalProperties, items, min/maxItems, minimum/maximum (and
/// exclusive), min/maxLength, pattern, allOf/anyOf/oneOf. Returns the first violation with its path.
/// <see cref="Compile"/> checks every keyword it uses when the spec is read (a regex that does not
/// compile, a <c>minLength</c> that is not a count), so a bad schema fails the job's validation naming
/// the field, rather than scoring every rollout of the job as an evaluator error. Compiling also reads
/// every node once, so the shared schema is only read afterwards (JsonNode fills itself lazily, and
/// that first read is not thread-safe).
/// </summary>
public sealed class JsonSchemaValidator
{
    /// <summary>Deepest schema accepted (sub-schemas under properties, items, allOf…).</summary>
    public const int MaxDepth = 64;

    static readonly string[] Types = ["null", "object", "array", "string", "boolean", "number", "integer"];

    readonly JsonObject schema;
    readonly Dictionary<JsonObject, Regex> patterns = new(ReferenceEqualityComparer.Instance);

    JsonSchemaValidator(JsonObject schema) => this.schema = schema;

    /// <param name="at">where the schema sits in the job spec (<c>evaluator.schema</c>), for errors</param>
    /// <exception cref="SpecException">a keyword this validator uses has a value it cannot use</exception>
    public static JsonSchemaValidator Compile(JsonObject schema, string at)
    {
        var validator = new JsonSchemaValidator(schema);
        validator.Check(schema, at, 0);
        return validator;
    }

    void Check(JsonObject s, string at, int depth)
    {
        if (depth > MaxDepth) throw new SpecException(at, $"is nested deeper than {MaxDepth} schema levels; flatten the schema.");
        foreach (var (key, value) in s)
        {
            var here = $"{at}.{key}";
            switch (key)
            {
                case "type":
                    var names = value is JsonArray a ? a.Select((t, i) => TypeName(t, $"{here}[{i}]")).ToList() : [TypeName(value, here)];
                    if (names.Count == 0) throw new SpecException(here, "is an empty list; give at least one type.");
                    break;
                case "enum":
                    if (value is not JsonArray) throw new SpecException(here, "must be an array of the allowed values.");
                    break;
                case "allOf" or "anyOf" or "oneOf":
                    if (value is not JsonArray subs || subs.Count == 0) throw new SpecException(here, "must be a non-empty array of schemas.");
                    for (int i = 0; i < subs.Count; i++)
                        Check(subs[i] as JsonObject ?? throw new SpecException($"{here}[{i}]", "must be a schema object."), $"{here}[{i}]", depth + 1);
                    break;
                case "required":
                    if (value is not JsonArray req) throw new SpecException(here, "must be an array of property names.");
                    for (int i = 0; i < req.Count; i++) _ = StringOf(req[i], $"{here}[{i}]", "must be a property name (a string).");
                    break;
                case "properties":
                    if (value is not JsonObject props) throw new SpecException(here, "must be an object mapping property names to schemas.");
                    foreach (var (name, sub) in props)
                        SubSchema(sub, $"{here}.{name}", depth);
                    break;
                case "additionalProperties":
                    SubSchema(value, here, depth);
                    break;
                case "items":
                    if (value is JsonArray) throw new SpecException(here, "is an array (a tuple form of older drafts), which this validator does not support; give one schema for every item.");
                    SubSchema(value, here, depth);
                    break;
                case "minItems" or "maxItems" or "minLength" or "maxLength":
                    if (value is not JsonValue n || !n.TryGetValue<double>(out var count) || count < 0 || count != Math.Floor(count) || count > int.MaxValue)
                        throw new SpecException(here, "must be a whole number ≥ 0.");
                    break;
                case "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum":
                    if (value is not JsonValue m || m.GetValueKind() != System.Text.Json.JsonValueKind.Number) throw new SpecException(here, "must be a number.");
                    break;
                case "pattern":
                    var text = StringOf(value, here, "must be a regular expression (a string).");
                    try { patterns[s] = new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
                    catch (ArgumentException e) { throw new SpecException(here, $"is not a valid regular expression ({e.Message}); fix the pattern."); }
                    break;
            }
        }
    }

    /// <summary>A sub-schema: an object (checked in turn) or a boolean (true allows anything; false, in additionalProperties, nothing).</summary>
    void SubSchema(JsonNode? value, string at, int depth)
    {
        if (value is JsonObject o) Check(o, at, depth + 1);
        else if (value is not JsonValue v || v.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
            throw new SpecException(at, "must be a schema object or true/false.");
    }

    static string TypeName(JsonNode? node, string at)
    {
        var name = StringOf(node, at, $"must be a type name: one of {string.Join(", ", Types)}.");
        return Types.Contains(name) ? name : throw new SpecException(at, $"'{name}' is not a JSON Schema type; one of {string.Join(", ", Types)}.");
    }

    static string StringOf(JsonNode? node, string at, string message) =>
        node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : throw new SpecException(at, message);

    public string? Validate(JsonNode? value) => Validate(value, schema, "$");

    string? Validate(JsonNode? value, JsonObject schema, string path)
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
                if (schema["minItems"] is JsonValue min && arr.Count < min.GetValue<double>()) return $"{path}: fewer than {min} items";
                if (schema["maxItems"] is JsonValue max && arr.Count > max.GetValue<double>()) return $"{path}: more than {max} items";
                if (schema["items"] is JsonObject items)
                    for (int i = 0; i < arr.Count; i++)
                        if (Validate(arr[i], items, $"{path}[{i}]") is string e) return e;
                break;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                var s = v.GetValue<string>();
                if (schema["minLength"] is JsonValue minL && s.Length < minL.GetValue<double>()) return $"{path}: shorter than {minL}";
                if (schema["maxLength"] is JsonValue maxL && s.Length > maxL.GetValue<double>()) return $"{path}: longer than {maxL}";
                if (patterns.TryGetValue(schema, out var pattern) && !pattern.IsMatch(s))
                    return $"{path}: does not match pattern {schema["pattern"]}";
                break;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<double>(out var d):
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
