using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Chat.ToolCalls;

namespace Orleans.Rft.Engine.Tests;

/// <summary>Hand-written model outputs per family: calls become OpenAI tool calls, everything else stays content, nothing throws.</summary>
public sealed class ToolCallParserTests
{
    static ToolCallParseResult Parse(string parser, string output) => ToolCallParsers.Create(parser).Parse(output);

    static void AssertCalls(ToolCallParseResult result, params (string Name, string Arguments)[] expected)
    {
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.ToolCalls.Select(c => (c.Function.Name, c.Function.Arguments)).ToArray());
    }

    // ---- Hermes / Qwen

    [Fact]
    public void Hermes_reads_several_calls_after_text_and_keeps_the_text_as_content()
    {
        var result = Parse("hermes",
            "Let me check both cities.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\", \"days\": 3}}\n</tool_call>");
        AssertCalls(result, ("get_weather", "{\"city\": \"Paris\"}"), ("get_weather", "{\"city\": \"Zürich\", \"days\": 3}"));
        Assert.Equal("Let me check both cities.", result.Content);
        Assert.Null(result.ReasoningContent);
        Assert.All(result.ToolCalls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
        Assert.Equal(2, result.ToolCalls.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void Hermes_a_brace_or_closing_tag_inside_a_string_argument_does_not_end_the_call()
    {
        var result = Parse("hermes",
            "<tool_call>\n{\"name\": \"write\", \"arguments\": {\"code\": \"if (x) { return \\\"}\\\"; } // </tool_call>\", \"nested\": {\"a\": [1, {\"b\": null}]}}}\n</tool_call>");
        AssertCalls(result, ("write", "{\"code\": \"if (x) { return \\\"}\\\"; } // </tool_call>\", \"nested\": {\"a\": [1, {\"b\": null}]}}"));
        Assert.Null(result.Content);
    }

    [Fact]
    public void Qwen3_reasoning_is_separated_and_a_call_only_thought_about_is_not_executed()
    {
        var result = Parse("hermes",
            "<think>\nI could call <tool_call>{\"name\": \"rm\", \"arguments\": {}}</tool_call> but no.\nBetter ask for the weather.\n</think>\n\n" +
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"東京\"}}\n</tool_call>");
        AssertCalls(result, ("get_weather", "{\"city\": \"東京\"}"));
        Assert.Equal("I could call <tool_call>{\"name\": \"rm\", \"arguments\": {}}</tool_call> but no.\nBetter ask for the weather.", result.ReasoningContent);
        Assert.Null(result.Content);
    }

    [Fact]
    public void Reasoning_without_the_opening_tag_and_a_plain_answer_split_as_Qwen3_renders_them_back()
    {
        var result = Parse("hermes", "The user wants 2+2.\n</think>\n\n2 + 2 = 4.");
        Assert.Equal("The user wants 2+2.", result.ReasoningContent);
        Assert.Equal("2 + 2 = 4.", result.Content);
        Assert.Empty(result.ToolCalls);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Reasoning_cut_off_before_its_end_is_all_reasoning()
    {
        var result = Parse("hermes", "<think>\nStill thinking about <tool_call>");
        Assert.Equal("Still thinking about <tool_call>", result.ReasoningContent);
        Assert.Null(result.Content);
        Assert.Empty(result.ToolCalls);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Hermes_a_truncated_call_is_reported_and_kept_as_content_without_throwing()
    {
        const string output = "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par";
        var result = Parse("hermes", output);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(output, result.Content);
        var error = Assert.Single(result.Errors);
        Assert.Contains("character 6", error);
        Assert.Contains("truncated", error);
    }

    [Fact]
    public void Hermes_a_malformed_call_is_reported_while_the_good_one_is_kept()
    {
        var result = Parse("hermes",
            "<tool_call>\n{\"name\": \"a\", \"arguments\": {'x': 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"y\": 2}}\n</tool_call>");
        Assert.Equal(["b"], result.ToolCalls.Select(c => c.Function.Name));
        Assert.Equal("<tool_call>\n{\"name\": \"a\", \"arguments\": {'x': 1}}\n</tool_call>", result.Content);
        Assert.Contains("not valid JSON", Assert.Single(result.Errors));
    }

    [Fact]
    public void Hermes_arguments_given_as_a_JSON_string_are_read_and_a_missing_closing_tag_at_the_end_is_accepted()
    {
        var result = Parse("hermes", "<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2.5, true]}\"}");
        AssertCalls(result, ("f", "{\"x\": [1, 2.5, true]}"));
    }

    [Theory]
    [InlineData("{\"arguments\": {}}", "no \"name\"")]
    [InlineData("{\"name\": \"f\"}", "no \"arguments\"")]
    [InlineData("{\"name\": \"f\", \"arguments\": [1]}", "not a JSON object")]
    [InlineData("{\"name\": \"f\", \"arguments\": {\"a\": 1, \"a\": 2}}", "not valid JSON")]
    public void Hermes_a_call_object_of_the_wrong_shape_is_reported(string json, string problem)
    {
        var output = "<tool_call>\n" + json + "\n</tool_call>";
        var result = Parse("hermes", output);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(output, result.Content);
        Assert.Contains(problem, Assert.Single(result.Errors));
    }

    [Fact]
    public void No_call_leaves_the_answer_exactly_as_written()
    {
        foreach (var parser in ToolCallParsers.Names)
        {
            var result = Parse(parser, "  The answer is [1, 2] and {\"a\": 1}.\n");
            Assert.Equal("  The answer is [1, 2] and {\"a\": 1}.\n", result.Content);
            Assert.Empty(result.ToolCalls);
            Assert.Empty(result.Errors);
            Assert.Null(Parse(parser, "").Content);
        }
    }

    // ---- Llama 3.x JSON

    [Fact]
    public void Llama3_reads_a_json_call_with_parameters()
    {
        var result = Parse("llama3_json", "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"São Paulo\", \"unit\": \"c\"}}");
        AssertCalls(result, ("get_weather", "{\"city\": \"São Paulo\", \"unit\": \"c\"}"));
        Assert.Null(result.Content);
    }

    [Fact]
    public void Llama3_reads_the_python_tag_prefix_and_calls_separated_by_semicolons()
    {
        var result = Parse("llama3_json",
            "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"s\": \"x; y}\"}}; {\"name\": \"b\", \"arguments\": {}};{\"name\": \"c\", \"parameters\": {\"n\": -1.5e3}}");
        AssertCalls(result, ("a", "{\"s\": \"x; y}\"}"), ("b", "{}"), ("c", "{\"n\": -1500.0}"));
        Assert.Null(result.Content);
    }

    [Fact]
    public void Llama3_text_before_the_python_tag_is_content()
    {
        var result = Parse("llama3_json", "Checking.<|python_tag|>{\"name\": \"a\", \"parameters\": {}}");
        AssertCalls(result, ("a", "{}"));
        Assert.Equal("Checking.", result.Content);
    }

    [Fact]
    public void Llama3_a_json_answer_without_a_name_is_content_not_a_malformed_call()
    {
        var result = Parse("llama3_json", "{\"answer\": 42}");
        Assert.Empty(result.ToolCalls);
        Assert.Empty(result.Errors);
        Assert.Equal("{\"answer\": 42}", result.Content);
    }

    [Fact]
    public void Llama3_builtin_tool_code_and_truncated_json_are_reported_and_kept()
    {
        var code = Parse("llama3_json", "<|python_tag|>brave_search.call(query=\"weather\")");
        Assert.Empty(code.ToolCalls);
        Assert.Equal("<|python_tag|>brave_search.call(query=\"weather\")", code.Content);
        Assert.Contains("not a JSON call", Assert.Single(code.Errors));

        var truncated = Parse("llama3_json", "{\"name\": \"a\", \"parameters\": {\"x\": \"}");
        Assert.Empty(truncated.ToolCalls);
        Assert.Contains("truncated", Assert.Single(truncated.Errors));
    }

    // ---- Mistral

    [Fact]
    public void Mistral_v03_reads_the_json_list_with_nine_character_ids()
    {
        var result = Parse("mistral",
            "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}, \"id\": \"abc123XYZ\"}]");
        AssertCalls(result, ("get_weather", "{\"city\": \"Paris\"}"), ("add", "{\"a\": 1, \"b\": 2}"));
        Assert.Matches("^[A-Za-z0-9]{9}$", result.ToolCalls[0].Id);
        Assert.Equal("abc123XYZ", result.ToolCalls[1].Id);
        Assert.Null(result.Content);
    }

    [Fact]
    public void Mistral_v11_reads_name_args_pairs_with_an_optional_call_id_after_text()
    {
        var result = Parse("mistral",
            "I'll look that up.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Köln\", \"note\": \"[ARGS] } inside\"}[TOOL_CALLS]add[CALL_ID]k9Zq0aB1c[ARGS]{\"a\": 1}");
        AssertCalls(result, ("get_weather", "{\"city\": \"Köln\", \"note\": \"[ARGS] } inside\"}"), ("add", "{\"a\": 1}"));
        Assert.Equal("k9Zq0aB1c", result.ToolCalls[1].Id);
        Assert.Equal("I'll look that up.", result.Content);
    }

    [Fact]
    public void Mistral_a_list_with_one_bad_element_is_content_reported_by_element()
    {
        const string output = "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"arguments\": {}}]";
        var result = Parse("mistral", output);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(output, result.Content);
        Assert.Contains("element 1 of the list has no \"name\"", Assert.Single(result.Errors));

        var truncated = Parse("mistral", "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Par");
        Assert.Empty(truncated.ToolCalls);
        Assert.Contains("truncated", Assert.Single(truncated.Errors));
    }

    // ---- pythonic

    [Fact]
    public void Pythonic_reads_keyword_calls_with_python_literals()
    {
        var result = Parse("pythonic",
            "[get_weather(city='Paris', unit=\"c\"), f(x=1, y=-2.5, z=0x1F, big=-9_000_000_000, on=True, off=False, none=None, " +
            "items=[1, 'two', (3, 4), (5)], d={'k': {\"n\": [None]}, 1: 'one'}, s='it\\'s \"quoted\"\\n\\u00e9\\x41', r=r'C:\\new', " +
            "t='''multi\nline''', joined='a' \"b\", f2=2.0, e=1e-3, u=1_000)]");
        AssertCalls(result,
            ("get_weather", "{\"city\": \"Paris\", \"unit\": \"c\"}"),
            ("f", "{\"x\": 1, \"y\": -2.5, \"z\": 31, \"big\": -9000000000, \"on\": true, \"off\": false, \"none\": null, " +
                  "\"items\": [1, \"two\", [3, 4], 5], \"d\": {\"k\": {\"n\": [null]}, \"1\": \"one\"}, \"s\": \"it's \\\"quoted\\\"\\néA\", \"r\": \"C:\\\\new\", " +
                  "\"t\": \"multi\\nline\", \"joined\": \"ab\", \"f2\": 2.0, \"e\": 0.001, \"u\": 1000}"));
        Assert.Null(result.Content);
    }

    [Fact]
    public void Pythonic_reads_llama4s_wrapper_dotted_names_unicode_and_keeps_trailing_text()
    {
        var result = Parse("pythonic", "<|python_start|>[ns.lookup(q=\"naïve café 🚀\", n=[])]<|python_end|>\nDone.");
        AssertCalls(result, ("ns.lookup", "{\"q\": \"naïve café 🚀\", \"n\": []}"));
        Assert.Equal("Done.", result.Content);
    }

    [Theory]
    [InlineData("[f('positional')]", "positional argument")]
    [InlineData("[f(x=y)]", "'y' is a variable")]
    [InlineData("[f(x=g(1))]", "call or an expression")]
    [InlineData("[f(x=1, x=2)]", "given twice")]
    [InlineData("[f(x={1, 2})]", "a set")]
    [InlineData("[f(x=b'raw')]", "bytes")]
    [InlineData("[f(x='unterminated)]", "never closed")]
    [InlineData("[f(x=1), g(y=2", "truncated")]
    public void Pythonic_a_call_that_is_not_literal_python_is_reported_with_its_position_and_kept(string output, string problem)
    {
        var result = Parse("pythonic", output);
        Assert.Empty(result.ToolCalls);
        Assert.Equal(output, result.Content);
        var error = Assert.Single(result.Errors);
        Assert.Contains(problem, error);
        Assert.Matches(new Regex(@"character \d+: "), error);
    }

    // ---- OpenAI shape and selection

    [Fact]
    public void Result_has_the_OpenAI_assistant_message_shape_and_calls_render_back_as_chat_tool_calls()
    {
        var result = Parse("hermes", "<think>hmm</think>ok\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"é\"}}\n</tool_call>");
        var json = result.ToJson();
        Assert.Equal("assistant", (string?)json["role"]);
        Assert.Equal("ok", (string?)json["content"]);
        Assert.Equal("hmm", (string?)json["reasoning_content"]);
        var call = json["tool_calls"]![0]!;
        Assert.Equal("function", (string?)call["type"]);
        Assert.Equal("f", (string?)call["function"]!["name"]);
        Assert.Equal("{\"a\": \"é\"}", (string?)call["function"]!["arguments"]);
        Assert.Equal(result.ToolCalls[0].Id, (string?)call["id"]);
        ToolCall back = result.ToolCalls[0].ToChatToolCall();
        Assert.Equal("é", (string?)back.Arguments["a"]);
    }

    [Theory]
    [InlineData("{%- for tool_call in message.tool_calls %}{{- '<tool_call>\\n{\"name\": \"' }}", "hermes")]
    [InlineData("{{- \"[TOOL_CALLS] [\" }}{%- for tool in message.tool_calls %}", "mistral")]
    [InlineData("Respond in the format [func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)]", "pythonic")]
    [InlineData("{{- '{\"name\": \"' + tool_call.name + '\", ' }}{{- '\"parameters\": ' }}", "llama3_json")]
    [InlineData("{{- \"<|python_tag|>\" + tool_call.arguments.query }}", "llama3_json")]
    [InlineData("{% for message in messages %}{{ message.content }}{% endfor %}", null)]
    public void The_parser_is_chosen_from_the_markers_in_the_chat_template(string template, string? expected)
    {
        Assert.Equal(expected, ToolCallParsers.DetectName(template));
        Assert.Equal(expected, ToolCallParsers.FromTemplate(template)?.Name);
    }

    [Fact]
    public void An_unknown_parser_name_is_an_error_listing_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => ToolCallParsers.Create("qwen"));
        Assert.Contains("hermes, llama3_json, mistral, pythonic", e.Message);
    }
}
