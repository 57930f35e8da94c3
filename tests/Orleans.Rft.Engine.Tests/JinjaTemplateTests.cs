using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat.Jinja;

namespace Orleans.Rft.Engine.Tests;

public sealed class JinjaTemplateTests
{
    static string Render(string source, object? context = null)
    {
        var ctx = context is null ? new Dictionary<string, object?>() : (Dictionary<string, object?>)JinjaTemplate.FromJson(JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(context)))!;
        return new JinjaTemplate(source).Render(ctx, () => new DateTime(2026, 11, 26, 1, 2, 3));
    }

    [Fact]
    public void Json_integers_stay_ints_and_json_floats_stay_floats_as_python_json_loads_them()
    {
        Assert.Equal("{\"a\": 1, \"b\": 1.0, \"c\": 2.5} 1 1.0", Render("{{ x | tojson }} {{ x.a }} {{ x.b }}", new { x = JsonNode.Parse("{\"a\": 1, \"b\": 1.0, \"c\": 2.5}") }));
    }
}

public sealed class JinjaChatTemplateLoadingTests
{
    static string ModelDir(JsonObject config, string? jinjaFile = null)
    {
        var dir = TestModels.TempDirectory("template");
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        if (jinjaFile is not null) File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), jinjaFile);
        return dir;
    }

    static readonly List<Chat.ChatMessage> Hi = [Chat.ChatMessage.User("hi")];

    [Fact]
    public void Named_templates_use_tool_use_when_tools_are_given_and_default_otherwise()
    {
        var dir = ModelDir(new JsonObject
        {
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "default", ["template"] = "D{{ messages[0].content }}" },
                new JsonObject { ["name"] = "tool_use", ["template"] = "T{{ tools | length }}" }),
        });
        var t = Chat.JinjaChatTemplate.Load(dir)!;
        Assert.Equal("Dhi", t.RenderText(Hi));
        Assert.Equal("T1", t.RenderText(Hi, [new JsonObject { ["type"] = "function" }]));
    }

    [Fact]
    public void Special_tokens_come_from_tokenizer_config_in_string_or_AddedToken_form_and_a_null_token_stays_undefined()
    {
        var dir = ModelDir(new JsonObject
        {
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["lstrip"] = false },
            ["eos_token"] = "</s>",
            ["unk_token"] = null,
            ["chat_template"] = "{{ bos_token }}|{{ eos_token }}|{{ unk_token is defined }}",
        });
        Assert.Equal("<s>|</s>|False", Chat.JinjaChatTemplate.Load(dir)!.RenderText(Hi));
    }

    [Fact]
    public void Chat_template_jinja_beside_the_config_wins_and_a_directory_without_a_template_has_none()
    {
        Assert.Equal("file", Chat.JinjaChatTemplate.Load(ModelDir(new JsonObject { ["chat_template"] = "config" }, "file\n"))!.RenderText(Hi));
        Assert.Null(Chat.JinjaChatTemplate.Load(ModelDir(new JsonObject { ["eos_token"] = "</s>" })));
    }

    [Fact]
    public void A_template_that_does_not_parse_is_reported_with_the_file_and_line()
    {
        var dir = ModelDir(new JsonObject { ["chat_template"] = "ok\n{% if x %}\nunclosed" });
        var e = Assert.Throws<InvalidDataException>(() => Chat.JinjaChatTemplate.Load(dir));
        Assert.Contains("tokenizer_config.json: chat_template", e.Message);
        Assert.Contains("endif", e.Message);
    }

    [Fact]
    public void Raise_exception_surfaces_the_templates_own_message()
    {
        var t = new Chat.JinjaChatTemplate("{% if messages[0].role != 'system' %}{{ raise_exception('System message required') }}{% endif %}");
        var e = Assert.Throws<JinjaRaisedException>(() => t.RenderText(Hi));
        Assert.Equal("System message required", e.TemplateMessage);
        Assert.Contains("System message required", e.Message);
    }

    [Fact]
    public void Strftime_now_formats_the_templates_clock_as_python_does_and_kwargs_override_defaults()
    {
        var source = File.ReadAllText(Path.Combine(ChatTemplateCorpus.Root, "templates", "llama-3.2.jinja"));
        var t = new Chat.JinjaChatTemplate(source) { Clock = () => new DateTime(2026, 3, 5) };
        Assert.Contains("Today Date: 05 Mar 2026\n", t.RenderText(Hi));
        Assert.Contains("Today Date: 1 Apr 2030\n", t.RenderText(Hi, kwargs: new Dictionary<string, JsonNode?> { ["date_string"] = "1 Apr 2030" }));
    }

    [Fact]
    public void Undefined_attribute_access_and_type_errors_name_the_line()
    {
        var e = Assert.Throws<JinjaException>(() => new JinjaTemplate("a\nb\n{{ nothing.here }}").Render(new Dictionary<string, object?>()));
        Assert.StartsWith("line 3:", e.Message);
        var t = Assert.Throws<JinjaException>(() => new JinjaTemplate("{{ 'a' + none }}").Render(new Dictionary<string, object?>()));
        Assert.Contains("str", t.Message);
    }
}

public sealed class ChatTemplateDetectTests
{
    [Fact]
    public void A_model_folder_without_any_template_falls_back_to_the_hand_written_renderer_its_tokens_suit()
    {
        var dir = TestModels.TempDirectory("no-template");
        Presets.TinyModelPresets.WriteTokenizer(dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!.AsObject();
        Assert.IsType<Chat.JinjaChatTemplate>(Chat.ChatTemplate.Detect(dir, Tokenization.TextTokenizer.Load(dir)));
        config.Remove("chat_template");
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        Assert.IsType<Chat.ChatMlTemplate>(Chat.ChatTemplate.Detect(dir, Tokenization.TextTokenizer.Load(dir)));
    }
}
