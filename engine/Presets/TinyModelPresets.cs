using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Tokenization;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Presets;

/// <summary>
/// Llama-architecture models small enough to train on a laptop CPU, written in the HF layout with a
/// byte-level tokenizer (256 byte tokens, no merges, ChatML specials), so everything that loads a
/// real Qwen or Llama folder loads them too.
/// </summary>
public static class TinyModelPresets
{
    public static readonly string[] SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
    const int ReservedTokens = 5; // pads the vocabulary to 264, a multiple of 8
    static readonly object InitLock = new();

    public static readonly IReadOnlyDictionary<string, ModelConfig> Presets = new Dictionary<string, ModelConfig>
    {
        // unit tests: a few hundred thousand multiply-adds per token
        ["micro"] = Make(hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64),
        // the examples' base models: ~1.6M parameters, 3.3 MB in bf16
        ["tiny"] = Make(hidden: 192, layers: 4, heads: 6, kvHeads: 2, ffn: 512),
        // the benchmark's larger model: ~25M parameters
        ["small-25m"] = Make(hidden: 512, layers: 8, heads: 8, kvHeads: 4, ffn: 1536),
    };

    static ModelConfig Make(int hidden, int layers, int heads, int kvHeads, int ffn) => new(
        ModelConfig.Llama, 256 + SpecialTokens.Length + ReservedTokens, hidden, ffn, layers, heads, kvHeads, hidden / heads,
        1e-5, 10000.0, null, 1024, TieWordEmbeddings: true, AttentionBias: false, QkvBias: false, QkNorm: false,
        BosTokenId: null, EosTokenIds: [256 + 2], TorchDtype: "float32");

    /// <summary>Builds a randomly initialised preset (normal(0, 0.02) weights, unit norms, as HF initialises Llama) and writes it.</summary>
    public static LanguageModel Create(string preset, string directory, long seed = 0, ScalarType saveDType = ScalarType.Float32)
    {
        if (!Presets.TryGetValue(preset, out var config))
            throw new ArgumentException($"unknown preset '{preset}'; choose from {string.Join(", ", Presets.Keys)}.");
        Directory.CreateDirectory(directory);
        WriteTokenizer(directory);
        // The global generator, seeded before the modules are built (their constructors draw from it too),
        // as the committed example models were made; the lock keeps two presets built at once in one
        // process from interleaving their draws.
        CausalLM network;
        lock (InitLock)
        {
            manual_seed(seed);
            network = new CausalLM(config, ScalarType.Float32, CPU);
            using (no_grad())
            {
                foreach (var (name, p) in network.BaseParameters())
                {
                    if (name.EndsWith("norm.weight")) p.fill_(1.0);
                    else if (name.EndsWith(".bias")) p.zero_();
                    else p.normal_(0, 0.02);
                }
            }
        }
        network.eval();
        var tokenizer = TextTokenizer.Load(directory);
        var model = LanguageModel.FromNetwork(directory, network, tokenizer, ChatTemplate.Detect(directory, tokenizer), ComputeDevice.Cpu);
        model.SaveBase(directory, saveDType);
        return model;
    }

    /// <summary>
    /// The tiny models' Jinja chat template: Qwen2.5's (tools in the system turn, &lt;tool_call&gt; JSON,
    /// consecutive tool results in one user turn of &lt;tool_response&gt; blocks) without its default
    /// system prompt, so a conversation without tools renders as plain ChatML.
    /// </summary>
    public const string ChatMlToolTemplate = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0]['role'] == 'system' %}
                {{- messages[0]['content'] }}
            {%- endif %}
            {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
        {%- elif messages[0]['role'] == 'system' %}
            {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
        {%- endif %}
        {%- for message in messages %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
            {%- elif message.role == "assistant" %}
                {{- '<|im_start|>' + message.role }}
                {%- if message.content %}
                    {{- '\n' + message.content }}
                {%- endif %}
                {%- for tool_call in message.tool_calls %}
                    {%- if tool_call.function is defined %}
                        {%- set tool_call = tool_call.function %}
                    {%- endif %}
                    {{- '\n<tool_call>\n{"name": "' }}
                    {{- tool_call.name }}
                    {{- '", "arguments": ' }}
                    {{- tool_call.arguments | tojson }}
                    {{- '}\n</tool_call>' }}
                {%- endfor %}
                {{- '<|im_end|>\n' }}
            {%- elif message.role == "tool" %}
                {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
                {{- '\n<tool_response>\n' }}
                {{- message.content }}
                {{- '\n</tool_response>' }}
                {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
                    {{- '<|im_end|>\n' }}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """;

    /// <summary>tokenizer.json (byte-level BPE without merges) and tokenizer_config.json with <see cref="ChatMlToolTemplate"/>.</summary>
    public static void WriteTokenizer(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        var added = new JsonArray();
        var specials = SpecialTokens.Concat(Enumerable.Range(0, ReservedTokens).Select(i => $"<|reserved_{i}|>")).ToArray();
        var decoder = new JsonObject();
        for (int i = 0; i < specials.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = 256 + i, ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
            decoder[(256 + i).ToString()] = new JsonObject { ["content"] = specials[i], ["special"] = true };
        }
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["model_max_length"] = 1024,
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>",
            ["added_tokens_decoder"] = decoder,
            ["chat_template"] = ChatMlToolTemplate,
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(new() { WriteIndented = true }));
    }
}
