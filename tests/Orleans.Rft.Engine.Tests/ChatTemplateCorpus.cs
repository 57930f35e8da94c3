using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// The corpus under ChatTemplates/: real model templates, conversations, and expected.json written
/// by scripts/render_reference.py (Python's jinja2 set up as transformers sets it up).
/// </summary>
public static class ChatTemplateCorpus
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Orleans.Rft.Engine.Tests", "ChatTemplates");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Orleans.Rft.Engine.Tests/ChatTemplates not found above the test binaries.");
    }

    public static JinjaChatTemplate Template(string name)
    {
        if (name.StartsWith("features/", StringComparison.Ordinal))
            return new JinjaChatTemplate(File.ReadAllText(Path.Combine(Root, name + ".jinja")), new Dictionary<string, object?> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" });
        var source = File.ReadAllText(Path.Combine(Root, "templates", name + ".jinja"));
        var tokens = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "templates", "tokens.json")))![name]!.AsObject();
        return new JinjaChatTemplate(source, tokens.ToDictionary(kv => kv.Key, kv => (object?)kv.Value!.GetValue<string>()));
    }

    public static (List<ChatMessage> Messages, List<JsonObject>? Tools) Conversation(string name)
    {
        var path = Path.Combine(Root, "conversations", name + ".json");
        var data = JsonNode.Parse(File.ReadAllText(path))!;
        var tools = data["tools"]?.AsArray().Select(t => t!.AsObject()).ToList();
        return (ChatMessage.ParseList(data["messages"], path), tools);
    }

    public static IEnumerable<JsonObject> Cases() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "expected.json")))!["cases"]!.AsArray().Select(c => c!.AsObject());

    public static Dictionary<string, JsonNode?> Kwargs(JsonObject c) =>
        c["kwargs"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
}
