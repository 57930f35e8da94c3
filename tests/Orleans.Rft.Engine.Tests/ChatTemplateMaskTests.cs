using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Engine.Tests;

public sealed class ChatTemplateMaskTests
{
    static List<string> Trainable(IReadOnlyList<ChatSegment> segments) => segments.Where(s => s.Trainable).Select(s => s.Text).ToList();

    [Fact]
    public void Every_real_template_masks_each_assistant_turn_and_nothing_the_user_or_tools_wrote()
    {
        var failures = new List<string>();
        foreach (var c in ChatTemplateCorpus.Cases())
        {
            var name = c["template"]!.GetValue<string>();
            if (name.StartsWith("features/", StringComparison.Ordinal) || c["text"] is not JsonNode expected) continue;
            var (messages, tools) = ChatTemplateCorpus.Conversation(c["conversation"]!.GetValue<string>());
            var template = ChatTemplateCorpus.Template(name);
            var segments = template.Render(messages, tools, c["add_generation_prompt"]!.GetValue<bool>(), ChatTemplateCorpus.Kwargs(c));
            var label = $"{name} × {c["conversation"]} agp={c["add_generation_prompt"]} {c["kwargs"]!.ToJsonString()}";
            if (string.Concat(segments.Select(s => s.Text)) != expected.GetValue<string>()) failures.Add($"{label}: segments do not concatenate to the render");
            var trained = Trainable(segments);
            int assistants = messages.Count(m => m.Role == "assistant");
            if (trained.Count != assistants) failures.Add($"{label}: {trained.Count} trainable spans for {assistants} assistant messages: [{string.Join(" | ", trained)}]");
            foreach (var m in messages.Where(m => m.Role != "assistant" && m.Content is { Length: > 8 }))
                if (trained.Any(t => t.Contains(m.Content!.Trim(), StringComparison.Ordinal))) failures.Add($"{label}: {m.Role} text '{m.Content}' is marked trainable");
            foreach (var m in messages.Where(m => m.Role == "assistant" && !string.IsNullOrEmpty(m.Content) && m.ToolCalls is null)) // Llama and Mistral drop the text of a tool-call turn
            {
                var visible = m.Content!.Contains("</think>") ? m.Content.Split("</think>")[^1].Trim() : m.Content.Trim();
                if (!trained.Any(t => t.Contains(visible, StringComparison.Ordinal))) failures.Add($"{label}: assistant text '{visible}' is not trainable");
            }
            foreach (var t in trained)
                if (!template.EndOfTurnTokens.Any(e => t.EndsWith(e, StringComparison.Ordinal))) failures.Add($"{label}: trainable span does not end with an end-of-turn token: '{t}'");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void Qwen2_5_tool_call_turn_is_trained_from_the_call_to_im_end_and_the_newline_after_it_is_not()
    {
        var (messages, tools) = ChatTemplateCorpus.Conversation("tool_call_string_args");
        var segments = ChatTemplateCorpus.Template("qwen2.5").Render(messages, tools, addGenerationPrompt: false);
        Assert.Equal(
            ["<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3.5, \"note\": \"héllo\"}}\n</tool_call><|im_end|>", "2+3.5 = 5.5.<|im_end|>"],
            Trainable(segments));
        Assert.EndsWith("<|im_start|>assistant\n", segments[0].Text);
    }

    [Fact]
    public void Qwen3_trains_the_last_turns_reasoning_and_only_the_answer_of_turns_whose_reasoning_the_template_drops()
    {
        var (messages, _) = ChatTemplateCorpus.Conversation("reasoning");
        var segments = ChatTemplateCorpus.Template("qwen3").Render(messages, null, addGenerationPrompt: false);
        Assert.Equal(["Yes, 17 is prime.<|im_end|>", "<think>\n21 = 3 × 7.\n</think>\n\nNo, 21 = 3 × 7.<|im_end|>"], Trainable(segments));
    }

    [Fact]
    public void Generation_markers_decide_the_mask_when_a_template_has_them()
    {
        const string source = "{% for m in messages %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}</a>{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}";
        var template = new JinjaChatTemplate(source);
        var segments = template.Render([ChatMessage.User("hi"), ChatMessage.Assistant("yo"), ChatMessage.User("x"), ChatMessage.Assistant("z")], null, false);
        Assert.Equal(["yo</a>", "z</a>"], Trainable(segments));
        Assert.Equal("<user>hi<assistant>yo</a><user>x<assistant>z</a>", string.Concat(segments.Select(s => s.Text))); // trim_blocks eats the newline after endif
    }

    [Fact]
    public void Encode_returns_the_whole_texts_ids_and_masks_exactly_the_trainable_text()
    {
        using var model = TestModels.Micro();
        var (messages, tools) = ChatTemplateCorpus.Conversation("tool_call_object_args");
        var template = model.Template;
        Assert.IsType<JinjaChatTemplate>(template);
        var encoded = template.Encode(model.Tokenizer, messages, tools, addGenerationPrompt: false);
        Assert.Equal(model.Tokenizer.Encode(template.RenderText(messages, tools, false)), encoded.Ids);
        var trained = model.Tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.TrainableMask[i]));
        Assert.Equal(string.Concat(Trainable(template.Render(messages, tools, false))), trained);
    }

    [Fact]
    public void The_tiny_presets_template_renders_what_the_hand_written_ChatML_renderer_did_tools_and_masks_included()
    {
        using var model = TestModels.Micro();
        var (messages, tools) = ChatTemplateCorpus.Conversation("tool_call_string_args");
        foreach (var agp in new[] { true, false })
        {
            var old = new ChatMlTemplate().Render(messages, tools, agp);
            var now = model.Template.Render(messages, tools, agp);
            Assert.Equal(string.Concat(old.Select(s => s.Text)), string.Concat(now.Select(s => s.Text)));
            Assert.Equal(Trainable(old), Trainable(now));
        }
        var noTools = ChatTemplateCorpus.Conversation("multi_turn_system").Messages;
        Assert.Equal(new ChatMlTemplate().RenderText(noTools), model.Template.RenderText(noTools));
    }

    [Theory]
    [InlineData("arithmetic")]
    [InlineData("json-extract")]
    public void Shipped_examples_render_byte_identically_to_before_with_the_same_masks(string example)
    {
        var root = Path.GetFullPath(Path.Combine(ChatTemplateCorpus.Root, "..", "..", "..", "examples", example));
        using var model = Models.LanguageModel.Load(Path.Combine(root, "base"));
        Assert.IsType<JinjaChatTemplate>(model.Template);
        int rows = 0;
        foreach (var file in new[] { "sft.jsonl", "train.jsonl", "test.jsonl" })
        {
            var path = Path.Combine(root, file);
            if (!File.Exists(path)) continue;
            foreach (var line in File.ReadLines(path).Where(l => l.Trim().Length > 0).Take(50))
            {
                var messages = ChatMessage.ParseList(JsonNode.Parse(line)!["messages"], path);
                bool agp = messages[^1].Role != "assistant";
                var old = new ChatMlTemplate().Render(messages, null, agp);
                var now = model.Template.Render(messages, null, agp);
                Assert.Equal(string.Concat(old.Select(s => s.Text)), string.Concat(now.Select(s => s.Text)));
                Assert.Equal(Trainable(old), Trainable(now));
                Assert.Equal(old.Count == 0 ? [] : new ChatMlTemplate().Encode(model.Tokenizer, messages, null, agp).Ids, model.Template.Encode(model.Tokenizer, messages, null, agp).Ids);
                rows++;
            }
        }
        Assert.True(rows > 10);
    }
}

public sealed class ChatTemplateKwargsTests
{
    [Fact]
    public void Job_spec_kwargs_as_a_JsonObject_reach_the_template_through_Encode()
    {
        using var model = TestModels.Micro();
        var qwen3 = ChatTemplateCorpus.Template("qwen3");
        var kwargs = JsonNode.Parse("""{"enable_thinking": false}""")!.AsObject();
        var text = qwen3.RenderText([ChatMessage.User("hi")], null, true, kwargs);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", text);
        Assert.Equal(model.Tokenizer.Encode(text), qwen3.Encode(model.Tokenizer, [ChatMessage.User("hi")], null, true, kwargs).Ids);
    }
}

public sealed class ChatTemplateDocumentsTests
{
    [Fact]
    public void Documents_are_None_unless_given_as_a_kwarg_and_then_reach_the_template()
    {
        var t = new JinjaChatTemplate("{% if documents is none %}none{% else %}{% for d in documents %}[{{ d.title }}: {{ d.text }}]{% endfor %}{% endif %}");
        Assert.Equal("none", t.RenderText([ChatMessage.User("q")]));
        var docs = new Dictionary<string, JsonNode?> { ["documents"] = JsonNode.Parse("""[{"title": "A", "text": "alpha"}]""") };
        Assert.Equal("[A: alpha]", t.RenderText([ChatMessage.User("q")], kwargs: docs));
    }
}
