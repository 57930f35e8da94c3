using System.Text;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// <c>rft model render</c> on the shipped tiny model (examples/arithmetic/base): the text is the chat
/// template's rendering, the ids are the tokenizer's encoding of that text, the mask is 1 exactly on
/// the assistant's tokens; bad input exits 2 naming the place.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ModelRenderTests : IDisposable
{
    static readonly string BaseModel = Path.Combine(Repository.Root, "examples", "arithmetic", "base");
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-render-tests", Guid.NewGuid().ToString("N")[..8]);

    public ModelRenderTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    static (int Exit, string Out, string Error) Render(params string[] args) =>
        ConsoleCapture.Run(ModelCommands.Create(), ["model", "render", .. args]);

    const string Conversation = """
        [{"role": "system", "content": "You add numbers."},
         {"role": "user", "content": "What is 2+3? Ünïcode ✓"},
         {"role": "assistant", "content": "The answer is 5."}]
        """;

    // What ChatML (Qwen's, and the tiny model's template) renders for Conversation, written out by hand.
    const string ConversationText =
        "<|im_start|>system\nYou add numbers.<|im_end|>\n<|im_start|>user\nWhat is 2+3? Ünïcode ✓<|im_end|>\n<|im_start|>assistant\nThe answer is 5.<|im_end|>\n";

    [Fact]
    public void Json_text_is_the_templates_rendering_and_ids_are_the_tokenizers_encoding_of_that_text()
    {
        var (exit, output, error) = Render("--model", BaseModel, "--messages", Write("m.json", Conversation), "--json");
        Assert.True(exit == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(["text", "ids", "mask"], json.Select(kv => kv.Key));
        Assert.Equal(ConversationText + "<|im_start|>assistant\n", (string?)json["text"]);
        var tokenizer = TextTokenizer.Load(BaseModel);
        Assert.Equal(tokenizer.Encode((string)json["text"]!), json["ids"]!.AsArray().Select(i => (int)i!));
        Assert.Equal(json["ids"]!.AsArray().Count, json["mask"]!.AsArray().Count);
        Assert.All(json["mask"]!.AsArray(), m => Assert.Contains((int)m!, new[] { 0, 1 }));
    }

    [Fact]
    public void Without_the_generation_prompt_the_mask_is_1_exactly_on_the_assistant_turns_tokens()
    {
        var (exit, output, error) = Render("--model", BaseModel, "--messages", Write("m.json", Conversation), "--no-generation-prompt", "--json");
        Assert.True(exit == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(ConversationText, (string?)json["text"]);
        var tokenizer = TextTokenizer.Load(BaseModel);
        // the assistant's output is its content and the <|im_end|> that ends it; the role header before and the newline after are the template's
        var before = tokenizer.Encode(ConversationText[..ConversationText.LastIndexOf("The answer", StringComparison.Ordinal)]).Length;
        var trained = tokenizer.Encode("The answer is 5.<|im_end|>").Length;
        var after = tokenizer.Encode("\n").Length;
        int[] expected = [.. Enumerable.Repeat(0, before), .. Enumerable.Repeat(1, trained), .. Enumerable.Repeat(0, after)];
        Assert.Equal(expected, json["mask"]!.AsArray().Select(m => (int)m!));
    }

    [Fact]
    public void Text_output_shows_the_text_and_one_row_per_token_with_id_and_mask()
    {
        var (exit, output, error) = Render("--model", BaseModel, "--messages", Write("m.json", Conversation), "--no-generation-prompt");
        Assert.True(exit == 0, error);
        Assert.Contains(ConversationText, output);
        var ids = TextTokenizer.Load(BaseModel).Encode(ConversationText);
        var rows = output.Split('\n').SkipWhile(l => !l.StartsWith(" index", StringComparison.Ordinal)).Skip(1).Where(l => l.Length > 0).ToList();
        Assert.Equal(ids.Length, rows.Count);
        Assert.Equal(ids, rows.Select(r => int.Parse(r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])));
        Assert.Contains("trainable: mask 1", output);
    }

    [Fact]
    public void Tools_from_a_file_are_rendered_into_the_system_turn()
    {
        // The shipped tiny model's own template has no tools section (a model's template decides); Qwen2.5's real one has.
        var model = Path.Combine(dir, "qwen-template");
        Directory.CreateDirectory(model);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(BaseModel, f), Path.Combine(model, f), overwrite: true);
        File.Copy(Path.Combine(BaseModel, "..", "..", "..", "tests", "Orleans.Rft.Engine.Tests", "ChatTemplates", "templates", "qwen2.5.jinja"),
            Path.Combine(model, "chat_template.jinja"), overwrite: true);
        var tools = Write("tools.json", """[{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]""");
        var (exit, output, error) = Render("--model", model, "--messages", Write("m.json", Conversation), "--tools", tools, "--json");
        Assert.True(exit == 0, error);
        Assert.Contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"add\", \"parameters\": {\"type\": \"object\"}}}\n</tools>", (string?)JsonNode.Parse(output)!["text"]);
    }

    [Fact]
    public void Only_the_tokenizer_and_template_are_read_so_a_folder_without_weights_renders()
    {
        var model = Path.Combine(dir, "no-weights");
        Directory.CreateDirectory(model);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(BaseModel, f), Path.Combine(model, f));
        var (exit, output, error) = Render("--model", model, "--messages", Write("m.json", Conversation), "--json");
        Assert.True(exit == 0, error);
        Assert.StartsWith("<|im_start|>system", (string?)JsonNode.Parse(output)!["text"]);
    }

    [Fact]
    public void Template_kwargs_reach_the_models_jinja_template_and_are_refused_by_a_built_in_renderer()
    {
        var withTemplate = Path.Combine(dir, "kwargs-template");
        var withoutTemplate = Path.Combine(dir, "no-template");
        foreach (var d in new[] { withTemplate, withoutTemplate })
        {
            Directory.CreateDirectory(d);
            File.Copy(Path.Combine(BaseModel, "tokenizer.json"), Path.Combine(d, "tokenizer.json"), overwrite: true);
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(BaseModel, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" +
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% if enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}";
        File.WriteAllText(Path.Combine(withTemplate, "tokenizer_config.json"), config.ToJsonString());
        config.Remove("chat_template");
        File.WriteAllText(Path.Combine(withoutTemplate, "tokenizer_config.json"), config.ToJsonString());
        var messages = Write("m.json", """[{"role": "user", "content": "hi"}]""");

        var (exit, output, error) = Render("--model", withTemplate, "--messages", messages, "--template-kwargs", """{"enable_thinking": false}""", "--json");
        Assert.True(exit == 0, error);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", (string?)JsonNode.Parse(output)!["text"]);
        (exit, output, error) = Render("--model", withTemplate, "--messages", messages, "--json");
        Assert.EndsWith("<|im_start|>assistant\n", (string?)JsonNode.Parse(output)!["text"]);

        (exit, _, error) = Render("--model", withoutTemplate, "--messages", messages, "--template-kwargs", """{"enable_thinking": false}""");
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains("--template-kwargs: this model's chat template is the built-in 'chatml' renderer", error);
    }

    [Fact]
    public void Empty_template_kwargs_are_accepted()
    {
        var (exit, _, error) = Render("--model", BaseModel, "--messages", Write("m.json", Conversation), "--template-kwargs", "{}", "--json");
        Assert.True(exit == 0, error);
    }

    [Fact]
    public void Bad_json_in_messages_exits_2_naming_the_file_line_and_byte()
    {
        var path = Write("bad.json", "[{\"role\": \"user\",\n  \"content\": \"hi\",,}]");
        var (exit, _, error) = Render("--model", BaseModel, "--messages", path);
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains("bad.json:2: not valid JSON at byte 19 of line 2", error);
        Assert.DoesNotContain("Exception", error);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted_and_invalid_utf8_exits_2_naming_line_and_byte()
    {
        var bom = Path.Combine(dir, "bom.json");
        File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Conversation)]);
        var (exit, output, error) = Render("--model", BaseModel, "--messages", bom, "--json");
        Assert.True(exit == 0, error);
        Assert.StartsWith("<|im_start|>system", (string?)JsonNode.Parse(output)!["text"]);

        var bad = Path.Combine(dir, "bad-utf8.json");
        File.WriteAllBytes(bad, [.. Encoding.UTF8.GetBytes("[{\"role\": \"user\",\n \"content\": \"h"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}]")]);
        (exit, _, error) = Render("--model", BaseModel, "--messages", bad);
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains("bad-utf8.json:2: not valid UTF-8 at byte 15 of line 2; save the file as UTF-8", error);
    }

    [Theory]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}]""", null, null, "m.json: messages[1].role 'robot' must be system, user, assistant or tool")]
    [InlineData("m.json", """[{"role": "user", "content": 7}]""", null, null, "m.json: messages[0].content must be a string (got a number)")]
    [InlineData("m.json", """[]""", null, null, "m.json: 'messages' is empty")]
    [InlineData("m.json", """{"conversation": []}""", null, null, "m.json: the object has no 'messages'")]
    [InlineData("m.json", """{"messages": [{"role": "user", "content": "hi"}], "tools": {"name": "f"}}""", null, null, "m.json: tools must be an array of tools")]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}]""", """{"type": "function"}""", null, "tools.json must be an array of tools")]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}]""", """[{"type": "function", "function": {}}]""", null, "tools.json: [0].function.name is missing")]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}]""", """[1]""", null, "tools.json: [0] must be an object")]
    [InlineData("m.json", """{"messages": [{"role": "user", "content": "hi"}], "tools": []}""", "[]", null, "tools are given twice")]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}]""", null, "[1, 2]", "--template-kwargs must be a JSON object (got array)")]
    [InlineData("m.json", """[{"role": "user", "content": "hi"}]""", null, "{enable_thinking: false}", "--template-kwargs is not valid JSON (at character 1")]
    public void Bad_input_exits_2_naming_file_field_or_option(string name, string messages, string? tools, string? kwargs, string expected)
    {
        List<string> args = ["--model", BaseModel, "--messages", Write(name, messages)];
        if (tools is not null) args.AddRange(["--tools", Write("tools.json", tools)]);
        if (kwargs is not null) args.AddRange(["--template-kwargs", kwargs]);
        var (exit, _, error) = Render([.. args]);
        Assert.True(exit == 2, $"exit {exit}: {error}");
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Missing_files_and_folders_exit_2_naming_them()
    {
        var messages = Write("m.json", Conversation);
        var (exit, _, error) = Render("--model", Path.Combine(dir, "nope"), "--messages", messages);
        Assert.True(exit == 2, error);
        Assert.Contains("model folder", error);
        (exit, _, error) = Render("--model", BaseModel, "--messages", Path.Combine(dir, "missing.json"));
        Assert.True(exit == 2, error);
        Assert.Contains("missing.json' does not exist", error);
        (exit, _, error) = Render("--messages", messages);
        Assert.True(exit == 2, error);
        Assert.Contains("--model", error);
    }
}
