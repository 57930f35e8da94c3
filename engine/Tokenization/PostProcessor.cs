namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// tokenizer.json's <c>post_processor</c>, as far as ids go: which special tokens
/// <c>add_special_tokens=True</c> puts around one sequence or a pair (<c>processors/*.rs</c>).
/// <c>ByteLevel</c> only trims offsets, so it adds nothing.
/// </summary>
public abstract record PostProcessor
{
    /// <summary>The ids of one sequence (<paramref name="b"/> null) or a pair, with the special tokens added.</summary>
    public abstract List<int> Process(List<int> a, List<int>? b);

    /// <summary>One element of a template: a special token's ids, or sequence A or B.</summary>
    public readonly record struct Piece(int[]? SpecialIds, char Sequence);

    /// <summary><c>TemplateProcessing</c>: e.g. Llama-2's single <c>&lt;s&gt; $A</c>, pair <c>&lt;s&gt; $A &lt;s&gt; $B</c>.</summary>
    public sealed record Template(IReadOnlyList<Piece> Single, IReadOnlyList<Piece> Pair) : PostProcessor
    {
        public override List<int> Process(List<int> a, List<int>? b)
        {
            var result = new List<int>(a.Count + (b?.Count ?? 0) + 4);
            foreach (var piece in b is null ? Single : Pair)
            {
                if (piece.SpecialIds is not null) result.AddRange(piece.SpecialIds);
                else result.AddRange(piece.Sequence == 'A' ? a : b ?? []);
            }
            return result;
        }
    }

    /// <summary><c>BertProcessing</c> / <c>RobertaProcessing</c>: <c>cls A sep</c>, pair <c>cls A sep (sep) B sep</c>.</summary>
    public sealed record ClsSep(int Cls, int Sep, bool DoubleSeparator) : PostProcessor
    {
        public override List<int> Process(List<int> a, List<int>? b)
        {
            var result = new List<int> { Cls };
            result.AddRange(a);
            result.Add(Sep);
            if (b is null) return result;
            if (DoubleSeparator) result.Add(Sep);
            result.AddRange(b);
            result.Add(Sep);
            return result;
        }
    }

    /// <summary>Adds nothing (<c>ByteLevel</c>, or no post-processor).</summary>
    public sealed record None : PostProcessor
    {
        public override List<int> Process(List<int> a, List<int>? b)
        {
            var result = new List<int>(a);
            if (b is not null) result.AddRange(b);
            return result;
        }
    }

    public sealed record Sequence(IReadOnlyList<PostProcessor> Steps) : PostProcessor
    {
        // tokenizers' Sequence hands the encodings from one processor to the next; only one of them
        // adds special tokens in real files (ByteLevel + TemplateProcessing), so the first that does wins.
        public override List<int> Process(List<int> a, List<int>? b)
        {
            foreach (var step in Steps) if (step is not None) return step.Process(a, b);
            return new None().Process(a, b);
        }
    }
}
