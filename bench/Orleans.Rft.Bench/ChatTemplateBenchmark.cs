using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Bench;

/// <summary>
/// The cost of turning a conversation into a training example: render the model's Jinja template,
/// find the assistant spans (one render per prefix), tokenize. The target is under 5 ms for a
/// conversation of about 4k tokens (about 16 KB of text for a real BPE vocabulary), so that
/// templates never show in step time.
/// </summary>
public static class ChatTemplateBenchmark
{
    public sealed record Result(int Chars, int Tokens, int Turns, double RenderMs, double SegmentsMs, double EncodeMs, double TokenizeOnceMs);

    /// <param name="tokenizerDirectory">a model folder whose tokenizer.json to use (a real vocabulary); null: the tiny presets' byte-level one</param>
    public static Result Run(string templateSource, int targetChars, int repeats, string? tokenizerDirectory = null)
    {
        TextTokenizer tokenizer;
        if (tokenizerDirectory is not null) tokenizer = TextTokenizer.Load(tokenizerDirectory);
        else
        {
            var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-chat-bench-" + Guid.NewGuid().ToString("N")[..8]);
            TinyModelPresets.WriteTokenizer(dir);
            tokenizer = TextTokenizer.Load(dir);
            Directory.Delete(dir, true);
        }
        var template = new JinjaChatTemplate(templateSource, new Dictionary<string, object?> { ["eos_token"] = "<|im_end|>" });
        var (messages, tools) = Conversation(targetChars);
        var text = template.RenderText(messages, tools, false);
        int chars = text.Length;
        int tokens = template.Encode(tokenizer, messages, tools, false).Ids.Length;
        return new Result(chars, tokens, messages.Count,
            Median(repeats, () => template.RenderText(messages, tools, false)),
            Median(repeats, () => template.Render(messages, tools, false)),
            Median(repeats, () => template.Encode(tokenizer, messages, tools, false)),
            Median(repeats, () => tokenizer.Encode(text)));
    }

    /// <summary>A system prompt, a tool call and its result, then user/assistant turns until the text reaches the target.</summary>
    static (List<ChatMessage>, List<JsonObject>) Conversation(int targetChars)
    {
        var tools = new List<JsonObject> { JsonNode.Parse("""{"type": "function", "function": {"name": "search", "description": "Search the notes", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}""")!.AsObject() };
        var messages = new List<ChatMessage>
        {
            ChatMessage.System("You are a careful assistant. Answer briefly and cite the notes you used."),
            ChatMessage.User("Find what the notes say about the migration plan."),
            new("assistant", null, [new ToolCall("call_1", "search", JsonNode.Parse("""{"query": "migration plan"}""")!.AsObject())]),
            new("tool", "The migration moves the storage layer first, then the API, over two weeks.", ToolCallId: "call_1"),
        };
        const string paragraph = "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly numbers, 42 of them, é and ü included. ";
        int total = messages.Sum(m => m.Content?.Length ?? 0);
        for (int turn = 0; total < targetChars; turn++)
        {
            var user = $"Question {turn}: " + string.Concat(Enumerable.Repeat(paragraph, 2));
            var assistant = $"Answer {turn}: " + string.Concat(Enumerable.Repeat(paragraph, 10));
            messages.Add(ChatMessage.User(user));
            messages.Add(ChatMessage.Assistant(assistant));
            total += user.Length + assistant.Length;
        }
        return (messages, tools);
    }

    static double Median(int repeats, Action action)
    {
        // Warm-up long enough for tiered compilation: a method is recompiled optimized only after 30
        // calls and a 100 ms quiet period, so three warm-up calls measured tier-0 code (the first
        // of several runs in one process read 10 ms for a tokenizer pass that takes 0.5 ms).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.ElapsedMilliseconds < 1500; i++) action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
