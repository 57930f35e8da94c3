using System.Collections.Concurrent;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Chat.ToolCalls;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// What the endpoint needs of a base model folder besides its weights: config (the context length),
/// tokenizer (prompts and log-prob tokens), chat template (prompts) and the tool-call parser its
/// template implies. Loaded without weights, once per folder (<see cref="ModelFilesCache"/>).
/// </summary>
public sealed class ModelFiles
{
    ModelFiles(string folder, ModelConfig config, TextTokenizer tokenizer, ChatTemplate template)
    {
        Folder = folder;
        Config = config;
        Tokenizer = tokenizer;
        Template = template;
        ToolCallParserName = ToolCallParsers.DetectName(template);
    }

    public string Folder { get; }
    public ModelConfig Config { get; }
    public TextTokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    /// <summary>The parser for tool calls in this model's format, or null when its template shows none (then outputs stay text).</summary>
    public string? ToolCallParserName { get; }
    public int ContextLength => Config.MaxPositionEmbeddings;

    /// <summary>A fresh parser (they are cheap; one per response keeps them free of shared state).</summary>
    public ToolCallParser? ToolCallParser() => ToolCallParserName is null ? null : ToolCallParsers.Create(ToolCallParserName);

    public static ModelFiles Load(string folder)
    {
        var tokenizer = TextTokenizer.Load(folder);
        return new ModelFiles(folder, ModelConfig.Load(folder), tokenizer, ChatTemplate.Detect(folder, tokenizer));
    }

    /// <summary>
    /// The token's bytes, for OpenAI's <c>bytes</c> field: the byte-level alphabet's bytes when the
    /// token is written in it (so a token that ends inside a UTF-8 character reports its own bytes),
    /// else the UTF-8 of its text.
    /// </summary>
    public byte[] TokenBytes(int id)
    {
        if (!Tokenizer.IsSpecial(id) && Tokenizer.IdToToken(id) is string piece)
        {
            var bytes = new byte[piece.Length];
            int i = 0;
            foreach (var c in piece)
            {
                int b = ByteLevelAlphabet.ToByte(c);
                if (b < 0) { bytes = null!; break; }
                bytes[i++] = (byte)b;
            }
            if (bytes is not null) return bytes;
        }
        return System.Text.Encoding.UTF8.GetBytes(TokenText(id));
    }

    public string TokenText(int id) => Tokenizer.Decode([id]);
}

/// <summary><see cref="ModelFiles"/> by full folder path, loaded once each (a failed load is retried on the next request).</summary>
public sealed class ModelFilesCache
{
    readonly ConcurrentDictionary<string, Lazy<ModelFiles>> files = new();

    public ModelFiles Get(string folder)
    {
        var key = Path.GetFullPath(folder);
        var lazy = files.GetOrAdd(key, k => new Lazy<ModelFiles>(() => ModelFiles.Load(k)));
        try { return lazy.Value; }
        catch
        {
            files.TryRemove(new KeyValuePair<string, Lazy<ModelFiles>>(key, lazy));
            throw;
        }
    }
}
