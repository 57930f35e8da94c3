using System.Text;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// A sequence on its way through <see cref="ContinuousBatcher"/>: the tokens and log-probs so far, its
/// streamed text, and what ends it (stop ids, stop strings, max tokens). Streaming never emits text
/// that a stop string may still claim: the longest tail of the text that begins a stop string is held
/// back until the next tokens decide it.
/// </summary>
sealed class RowState
{
    readonly List<int> ids = new();
    readonly List<float> sampled = new(), policy = new(), raw = new();
    readonly List<IReadOnlyList<TokenLogProb>> top = new();
    readonly HashSet<int> stopIds;
    readonly string[] stops;
    readonly StreamingDecoder decoder;
    readonly StringBuilder text = new();   // streamed text so far (tokenizers' decode, no clean-up)
    int emitted;                           // chars of text already given to the callback
    readonly TextTokenizer tokenizer;

    public RowState(SequenceHandle handle, LanguageModel model)
    {
        Handle = handle;
        var o = handle.Submission.Options;
        stopIds = new HashSet<int>(o.IgnoreEos ? [] : model.StopTokenIds);
        foreach (var id in o.StopTokenIds ?? []) stopIds.Add(id);
        stops = o.Stop?.Where(s => s.Length > 0).ToArray() ?? [];
        tokenizer = model.Tokenizer;
        decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
    }

    public SequenceHandle Handle { get; }
    public SamplingOptions Options => Handle.Submission.Options;
    public int[] Prompt => Handle.Submission.PromptIds;
    public int Count => ids.Count;
    public string? FinishReason { get; private set; }
    bool endsWithStopToken;

    public RowDraw Draw => new(Options.Temperature, Options.TopP, Options.TopK, Handle.Seed, ids.Count, Options.LogProbs);

    /// <summary>Takes the sampled token; returns the callback's token (null without a callback) and sets <see cref="FinishReason"/> when the row ends.</summary>
    public GeneratedToken? Add(int id, float s, float p, float? rawLogProb, TokenLogProb[]? alternatives)
    {
        ids.Add(id); sampled.Add(s); policy.Add(p);
        bool reports = Options.LogProbs is not null && rawLogProb is not null;
        if (reports) { raw.Add(rawLogProb!.Value); top.Add(alternatives ?? []); }
        string delta;
        if (stopIds.Contains(id))
        {
            endsWithStopToken = true;
            FinishReason = Sampling.FinishReason.Stop;
            delta = Release(decoder.Flush(), final: true);
        }
        else
        {
            delta = decoder.Push(id);
            if (stops.Length > 0 && CutAtStop(delta) is { } cut) { FinishReason = Sampling.FinishReason.Stop; delta = cut; }
            else if (ids.Count >= Options.MaxTokens) { FinishReason = Sampling.FinishReason.Length; delta = Release(delta + decoder.Flush(), final: true); }
            else delta = Release(delta, final: false);
        }
        if (Handle.Submission.OnToken is null) return null;
        return new GeneratedToken(id, s, p, reports ? new TokenLogProb(id, rawLogProb!.Value) : null, reports ? alternatives : null, delta);
    }

    /// <summary>When the text now contains a stop string: the text before it not yet emitted (and the text ends there).</summary>
    string? CutAtStop(string delta)
    {
        int searchFrom = Math.Max(0, text.Length - stops.Max(s => s.Length));
        text.Append(delta);
        var whole = text.ToString();
        int at = -1;
        foreach (var stop in stops)
        {
            var i = whole.IndexOf(stop, searchFrom, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at < 0) { text.Length -= delta.Length; return null; }
        text.Length = at;
        var cut = at > emitted ? whole[emitted..at] : "";
        emitted = Math.Max(emitted, at);
        return cut;
    }

    /// <summary>Appends <paramref name="delta"/> and returns what may be emitted: all at the end, else all but a tail that may begin a stop string.</summary>
    string Release(string delta, bool final)
    {
        text.Append(delta);
        int hold = final ? 0 : HeldBack();
        int upTo = Math.Max(emitted, text.Length - hold);
        var released = text.ToString(emitted, upTo - emitted);
        emitted = upTo;
        return released;
    }

    int HeldBack()
    {
        int hold = 0;
        foreach (var stop in stops)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > hold; n--)
                if (EndsWith(stop, n)) { hold = n; break; }
        return hold;
    }

    bool EndsWith(string stop, int n)
    {
        for (int i = 0; i < n; i++)
            if (text[text.Length - n + i] != stop[i]) return false;
        return true;
    }

    /// <summary>The finished sequence; its text is the whole decode (with the tokenizer's clean-up), cut at the first stop string.</summary>
    public GeneratedSequence ToSequence()
    {
        var textIds = endsWithStopToken ? ids.Take(ids.Count - 1) : ids;
        var whole = tokenizer.Decode(textIds, skipSpecialTokens: true);
        int at = -1;
        foreach (var stop in stops)
        {
            var i = whole.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at >= 0) whole = whole[..at];
        bool reports = Options.LogProbs is not null && raw.Count == ids.Count;
        return new GeneratedSequence(ids.ToArray(), sampled.ToArray(), policy.ToArray(), FinishReason ?? Sampling.FinishReason.Length, whole,
            reports ? raw.ToArray() : null, reports ? top.ToArray() : null);
    }
}
