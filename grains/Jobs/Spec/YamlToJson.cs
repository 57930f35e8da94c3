using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Orleans.Rft.Grains.Jobs.Spec;

/// <summary>
/// Converts a YAML document to JSON nodes (plain scalars typed by the YAML 1.2 core schema: null,
/// booleans, integers, floats; quoted scalars stay strings) and
/// remembers the line of every key path (<c>training.learning_rate</c>) for error messages.
/// </summary>
public static class YamlToJson
{
    public static (JsonNode? Root, Dictionary<string, int> Lines) Convert(string text)
    {
        CheckDepth(text);
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var lines = new Dictionary<string, int>();
        if (stream.Documents.Count == 0) return (null, lines);
        // Round-trip through text so every value is JsonElement-backed and reads as any numeric type.
        var root = Node(stream.Documents[0].RootNode, "", lines, 1);
        return (root is null ? null : JsonNode.Parse(root.ToJsonString()), lines);
    }

    /// <summary>Deepest nesting of mappings and lists accepted: System.Text.Json reads no deeper, and recursion here must stay bounded.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Refuses nesting deeper than <see cref="MaxDepth"/> before the document is built: building it
    /// recurses once per level (YamlStream.Load, then <see cref="Node"/>), and 200,000 levels overflow
    /// the stack, which ends the process. The event parser used here keeps its own stack.
    /// </summary>
    static void CheckDepth(string text)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart && ++depth > MaxDepth)
                throw new YamlDotNet.Core.YamlException(parser.Current.Start, parser.Current.End, $"mappings and lists are nested deeper than {MaxDepth} levels here; flatten the job file.");
            if (parser.Current is YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd) depth--;
        }
    }

    static JsonNode? Node(YamlNode node, string path, Dictionary<string, int> lines, int depth)
    {
        if (depth > MaxDepth && node is YamlMappingNode or YamlSequenceNode)
            throw new YamlDotNet.Core.YamlException(node.Start, node.End, $"mappings and lists are nested deeper than {MaxDepth} levels here; flatten the job file.");
        lines[path] = (int)node.Start.Line;
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = ((YamlScalarNode)k).Value ?? "";
                    var childPath = path.Length == 0 ? key : $"{path}.{key}";
                    lines[childPath] = (int)k.Start.Line;
                    o[key] = Node(v, childPath, lines, depth + 1);
                    lines[childPath] = (int)k.Start.Line;
                }
                return o;
            case YamlSequenceNode seq:
                var a = new JsonArray();
                int i = 0;
                foreach (var item in seq.Children) a.Add(Node(item, $"{path}[{i++}]", lines, depth + 1));
                return a;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var v = scalar.Value ?? "";
        if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain) return JsonValue.Create(v);
        if (v is "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (System.Text.RegularExpressions.Regex.IsMatch(v, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }
}
