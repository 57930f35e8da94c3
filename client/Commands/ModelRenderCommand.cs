using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft model render</c>: a conversation as the model will see it, the rendered text, its token ids
/// and the loss mask (1 on the tokens an SFT or RL step trains on: the assistant's output). Reads the
/// tokenizer and chat template only, never the weights, so a 7B model's prompt renders in
/// milliseconds without loading 14 GB.
/// </summary>
public static class ModelRenderCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (only its tokenizer and chat template are read)", Required = true };
        var messages = new Option<string>("--messages") { Description = "JSON file: an OpenAI messages array, or {messages, tools}", Required = true };
        var tools = new Option<string?>("--tools") { Description = "JSON file: an array of OpenAI tools ({\"type\": \"function\", \"function\": {…}})" };
        var kwargs = new Option<string?>("--template-kwargs") { Description = "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}'" };
        var noGenerationPrompt = new Option<bool>("--no-generation-prompt") { Description = "do not open an assistant turn at the end (render a finished conversation, as for SFT)" };
        var command = new Command("render", "show the rendered chat template text, token ids and loss mask (--json: {\"text\", \"ids\", \"mask\"}, mask as 0/1)");
        foreach (var o in new Option[] { model, messages, tools, kwargs, noGenerationPrompt }) command.Add(o);
        command.SetAction(p =>
        {
            var (msgs, inlineTools) = ReadMessages(p.GetValue(messages)!);
            var toolList = inlineTools;
            if (p.GetValue(tools) is string toolsPath)
            {
                if (inlineTools is not null)
                    throw new ArgumentException($"tools are given twice: in {p.GetValue(messages)}'s 'tools' and in --tools {toolsPath}; keep one.");
                toolList = ReadTools(toolsPath);
            }
            var templateKwargs = ParseKwargs(p.GetValue(kwargs));
            var dir = Cli.RequireDirectory(p.GetValue(model)!, "model folder");
            var tokenizer = TextTokenizer.Load(dir);
            var template = ChatTemplate.Detect(dir, tokenizer);
            var (text, encoded) = Render(template, tokenizer, msgs, toolList, templateKwargs, !p.GetValue(noGenerationPrompt));
            if (p.GetValue(Cli.Json)) Cli.PrintJson(ToJson(text, encoded));
            else Print(tokenizer, text, encoded);
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>
    /// The one place the conversation is rendered. Template kwargs reach only templates that read
    /// them (the model's own Jinja template); the hand-written ChatML and Llama-3 renderers have no
    /// variables, so kwargs given to them are refused rather than silently ignored.
    /// </summary>
    static (string Text, EncodedChat Encoded) Render(ChatTemplate template, TextTokenizer tokenizer, List<ChatMessage> messages,
        List<JsonObject>? tools, JsonObject kwargs, bool addGenerationPrompt)
    {
        if (kwargs.Count > 0 && template is not JinjaChatTemplate)
            throw new NotSupportedException($"--template-kwargs: this model's chat template is the built-in '{template.Name}' renderer, which has no template variables; " +
                "drop --template-kwargs (they apply to a model's own Jinja chat_template).");
        return (template.RenderText(messages, tools, addGenerationPrompt, kwargs), template.Encode(tokenizer, messages, tools, addGenerationPrompt, kwargs));
    }

    static JsonObject ToJson(string text, EncodedChat encoded) => new()
    {
        ["text"] = text,
        ["ids"] = new JsonArray(encoded.Ids.Select(i => (JsonNode)i).ToArray()),
        // 0/1 like transformers' assistant_masks (apply_chat_template(return_assistant_tokens_mask=True))
        ["mask"] = new JsonArray(encoded.TrainableMask.Select(m => (JsonNode)(m ? 1 : 0)).ToArray()),
    };

    static void Print(TextTokenizer tokenizer, string text, EncodedChat encoded)
    {
        Console.WriteLine($"--- text ({text.Length} characters)");
        Console.WriteLine(text);
        Console.WriteLine($"--- tokens ({encoded.Ids.Length}, {encoded.TrainableMask.Count(m => m)} trainable: mask 1)");
        Console.WriteLine($"{"index",6} {"id",8} mask  token");
        for (int i = 0; i < encoded.Ids.Length; i++)
            Console.WriteLine($"{i,6} {encoded.Ids[i],8} {(encoded.TrainableMask[i] ? 1 : 0),4}  {Escape(tokenizer.Decode([encoded.Ids[i]]))}");
    }

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");

    static (List<ChatMessage> Messages, List<JsonObject>? Tools) ReadMessages(string path)
    {
        var node = ReadJson(path, "messages file");
        List<ChatMessage> messages;
        List<JsonObject>? tools = null;
        if (node is JsonObject o)
        {
            if (!o.ContainsKey("messages")) throw new InvalidDataException($"{path}: the object has no 'messages'; give an OpenAI messages array, or {{\"messages\": [...], \"tools\": [...]}}.");
            messages = ChatMessage.ParseList(o["messages"], path);
            if (o["tools"] is JsonNode t) tools = ToolList(t, path, "tools");
        }
        else messages = ChatMessage.ParseList(node, path);
        if (messages.Count == 0) throw new InvalidDataException($"{path}: 'messages' is empty; give at least one {{\"role\", \"content\"}} message.");
        return (messages, tools);
    }

    static List<JsonObject> ReadTools(string path) => ToolList(ReadJson(path, "tools file"), path, "");

    static List<JsonObject> ToolList(JsonNode? node, string path, string field)
    {
        var where = field.Length == 0 ? path : $"{path}: {field}";
        if (node is not JsonArray array) throw new InvalidDataException($"{where} must be an array of tools [{{\"type\": \"function\", \"function\": {{\"name\", \"description\", \"parameters\"}}}}].");
        var list = new List<JsonObject>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject tool)
                throw new InvalidDataException($"{path}: {field}[{i}] must be an object {{\"type\": \"function\", \"function\": {{…}}}} (got {array[i]?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}).");
            if (tool["function"] is not JsonObject function || function["name"] is not JsonValue)
                throw new InvalidDataException($"{path}: {field}[{i}].function.name is missing; each tool is {{\"type\": \"function\", \"function\": {{\"name\": …, \"parameters\": {{…}}}}}}.");
            list.Add((JsonObject)tool.DeepClone());
        }
        return list;
    }

    /// <summary>--template-kwargs must be a JSON object; errors name the option and the position.</summary>
    static JsonObject ParseKwargs(string? text)
    {
        if (text is null) return new JsonObject();
        JsonNode? node;
        try { node = JsonNode.Parse(text); }
        catch (JsonException e)
        {
            throw new ArgumentException($"--template-kwargs is not valid JSON (at character {e.BytePositionInLine ?? 0}: {ShortMessage(e.Message)}); give a JSON object, e.g. '{{\"enable_thinking\": false}}'.");
        }
        return node as JsonObject ?? throw new ArgumentException(
            $"--template-kwargs must be a JSON object (got {node?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}); e.g. '{{\"enable_thinking\": false}}'.");
    }

    /// <summary>
    /// Reads a JSON file (UTF-8, a byte-order mark allowed); a syntax error or a bad byte names the file,
    /// the line and the byte in it, never a bare exception.
    /// </summary>
    static JsonNode? ReadJson(string path, string what)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} '{path}' does not exist.");
        var bytes = File.ReadAllBytes(path);
        int bom = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        try { _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(bytes, bom, bytes.Length - bom); }
        catch (DecoderFallbackException e)
        {
            var (line, column) = LineAndByte(bytes, bom + e.Index);
            throw new InvalidDataException($"{path}:{line}: not valid UTF-8 at byte {column} of line {line}; save the file as UTF-8.");
        }
        JsonNode? node;
        try { node = StrictJson.Parse(bytes.AsSpan(bom)); } // a duplicate key is an error here, with its line, not a crash on first read
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var column = (e.BytePositionInLine ?? 0) + 1 + (line == 1 ? bom : 0);
            throw new InvalidDataException($"{path}:{line}: not valid JSON at byte {column} of line {line}: {ShortMessage(e.Message)}; fix the JSON there.");
        }
        if (StrictJson.InvalidText(node) is string field)
            throw new InvalidDataException($"{path}: {field} holds a lone UTF-16 surrogate escape (such as \\ud800 without its pair), which is no character; write the character itself, or its full surrogate pair.");
        return node;
    }

    /// <summary>1-based line and byte-in-line of a byte offset.</summary>
    static (int Line, int Byte) LineAndByte(byte[] bytes, int index)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < index && i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n') { line++; lineStart = i + 1; }
        return (line, index - lineStart + 1);
    }

    static string ShortMessage(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }
}
