using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Chat.Jinja;

namespace Orleans.Rft.Engine.Tests;

public sealed class ChatTemplateCorpusTests
{
    [Fact]
    public void Every_corpus_case_renders_byte_for_byte_as_python_jinja2_does_or_fails_as_it_does()
    {
        var failures = new List<string>();
        var templates = new Dictionary<string, JinjaChatTemplate>();
        int checkedCases = 0;
        foreach (var c in ChatTemplateCorpus.Cases())
        {
            var name = c["template"]!.GetValue<string>();
            var conversation = c["conversation"]!.GetValue<string>();
            bool agp = c["add_generation_prompt"]!.GetValue<bool>();
            var label = $"{name} × {conversation} agp={agp} kwargs={c["kwargs"]!.ToJsonString()}";
            if (!templates.TryGetValue(name, out var template)) templates[name] = template = ChatTemplateCorpus.Template(name);
            var (messages, tools) = ChatTemplateCorpus.Conversation(conversation);
            if (name.StartsWith("features/", StringComparison.Ordinal)) messages.Insert(0, ChatMessage.System("sys"));
            checkedCases++;
            try
            {
                var text = template.RenderText(messages, tools, agp, ChatTemplateCorpus.Kwargs(c));
                if (c["text"] is JsonNode expected)
                {
                    if (text != expected.GetValue<string>())
                        failures.Add($"{label}: rendered\n{text}\n--- expected\n{expected.GetValue<string>()}");
                }
                else failures.Add($"{label}: rendered, but Python raised {c["error"] ?? c["error_type"]}");
            }
            catch (JinjaRaisedException e)
            {
                if (c["error"]?.GetValue<string>() != e.TemplateMessage) failures.Add($"{label}: raise_exception('{e.TemplateMessage}'), expected {(c["text"] is null ? c["error"] ?? c["error_type"] : "text")}");
            }
            catch (JinjaException e)
            {
                if (c["error_type"] is null) failures.Add($"{label}: {e.Message}");
            }
        }
        Assert.True(checkedCases >= 100, $"only {checkedCases} cases in expected.json");
        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedCases} cases differ:\n\n" + string.Join("\n\n", failures.Take(6)));
    }
}
