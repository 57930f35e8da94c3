using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Engine.Tests;

public sealed class ChatTemplateTests
{
    static readonly JsonObject AddTool = JsonNode.Parse("""
        {"type": "function", "function": {"name": "add", "description": "Add two integers",
         "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}
        """)!.AsObject();

    static readonly List<ChatMessage> Conversation =
    [
        ChatMessage.System("You are a calculator."),
        ChatMessage.User("What is 2+3?"),
        new("assistant", null, [new ToolCall("call_1", "add", JsonNode.Parse("""{"a": 2, "b": 3}""")!.AsObject())]),
        new("tool", "5", ToolCallId: "call_1"),
        ChatMessage.Assistant("2+3 = 5."),
    ];

    [Fact]
    public void ChatML_renders_tools_a_tool_call_and_its_result_as_Qwen2_5_does()
    {
        var text = new ChatMlTemplate().RenderText(Conversation, [AddTool], addGenerationPrompt: false);
        const string expected =
            "<|im_start|>system\nYou are a calculator.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"add\", \"description\": \"Add two integers\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}, \"required\": [\"a\", \"b\"]}}}\n" +
            "</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
            "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nWhat is 2+3?<|im_end|>\n" +
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\n2+3 = 5.<|im_end|>\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void Llama3_renders_headers_json_tool_calls_and_ipython_results()
    {
        var text = new Llama3Template().RenderText(Conversation.Where(m => m.Role != "system").ToList(), null, addGenerationPrompt: true);
        const string expected =
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"add\", \"parameters\": {\"a\": 2, \"b\": 3}}<|eom_id|>" +
            "<|start_header_id|>ipython<|end_header_id|>\n\n5<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n2+3 = 5.<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void Encoding_by_segments_equals_encoding_the_whole_text_and_masks_only_assistant_output()
    {
        using var model = TestModels.Micro();
        var template = new ChatMlTemplate();
        var encoded = template.Encode(model.Tokenizer, Conversation, [AddTool], addGenerationPrompt: false);
        Assert.Equal(model.Tokenizer.Encode(template.RenderText(Conversation, [AddTool], false)), encoded.Ids);
        var trained = model.Tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.TrainableMask[i]));
        Assert.Equal("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call><|im_end|>2+3 = 5.<|im_end|>", trained);
    }

    [Fact]
    public void The_tiny_models_ship_a_jinja_ChatML_template_that_is_detected_and_ends_turns_with_im_end()
    {
        using var model = TestModels.Micro();
        Assert.IsType<JinjaChatTemplate>(model.Template);
        Assert.Equal(["<|im_end|>"], model.Template.EndOfTurnTokens);
        Assert.Contains(model.Tokenizer.TokenToId("<|im_end|>")!.Value, model.StopTokenIds);
    }
}
