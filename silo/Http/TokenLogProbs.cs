using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// One generated token's log-probs as the engine reports them (under softmax(logits), with the k most
/// likely alternatives), written in the two OpenAI shapes: chat
/// <c>{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}</c> and text completions'
/// parallel lists <c>tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset</c>.
/// </summary>
public sealed record TokenLogProbs(int Id, TokenLogProb Raw, IReadOnlyList<TokenLogProb> Top)
{
    /// <summary>
    /// Per token of a finished sequence, as its generation service reported them; an error
    /// when the generation service reported none although they were asked for.
    /// </summary>
    public static IReadOnlyList<TokenLogProbs> Of(GeneratedSequence sequence)
    {
        var ids = sequence.TokenIds;
        if (sequence.RawLogProbs is { } raw && raw.Length == ids.Length)
            return ids.Select((id, i) => new TokenLogProbs(id, new TokenLogProb(id, raw[i]), sequence.TopLogProbs?[i] ?? [])).ToList();
        throw NotReported();
    }

    public static TokenLogProbs Of(GeneratedToken token) => token.Raw is { } raw ? new(token.Id, raw, token.Top ?? []) : throw NotReported();

    static OpenAIError NotReported() =>
        new(Microsoft.AspNetCore.Http.StatusCodes.Status501NotImplemented, "This silo's generation service reported no log-probs for the sampled tokens; ask without 'logprobs'.", "logprobs", "server_error");

    public JsonObject ToChatJson(ModelFiles files) => new()
    {
        ["token"] = files.TokenText(Id),
        ["logprob"] = Raw.LogProb,
        ["bytes"] = Bytes(files, Id),
        ["top_logprobs"] = new JsonArray(Top.Select(t => (JsonNode)new JsonObject
        {
            ["token"] = files.TokenText(t.Id), ["logprob"] = t.LogProb, ["bytes"] = Bytes(files, t.Id),
        }).ToArray()),
    };

    static JsonArray Bytes(ModelFiles files, int id) => new(files.TokenBytes(id).Select(b => (JsonNode)(int)b).ToArray());

    /// <summary>Text completions' <c>logprobs</c> object; offsets count characters of the completion text from 0.</summary>
    public static JsonObject ToCompletionJson(IReadOnlyList<TokenLogProbs> tokens, ModelFiles files, int firstOffset = 0)
    {
        var texts = new JsonArray();
        var logprobs = new JsonArray();
        var tops = new JsonArray();
        var offsets = new JsonArray();
        int offset = firstOffset;
        foreach (var t in tokens)
        {
            var text = files.TokenText(t.Id);
            texts.Add(text);
            logprobs.Add(t.Raw.LogProb);
            var top = new JsonObject();
            foreach (var alt in t.Top)
            {
                var altText = files.TokenText(alt.Id);
                if (!top.ContainsKey(altText)) top[altText] = alt.LogProb; // two ids can share a text; the likelier one is listed first
            }
            tops.Add(top);
            offsets.Add(offset);
            if (!files.Tokenizer.IsSpecial(t.Id)) offset += text.Length; // special tokens are listed but left out of the text
        }
        return new JsonObject { ["tokens"] = texts, ["token_logprobs"] = logprobs, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }
}
