namespace Orleans.Rft.Engine.Training;

/// <summary>What <c>max_context_length</c> cut from one sequence: all its tokens past the window, and those of them that would have trained.</summary>
public readonly record struct ContextCut(int Tokens, int TrainableTokens)
{
    public bool Any => Tokens > 0;
}

/// <summary>
/// The rule by which <see cref="SequenceBatch.Build"/> fits a sequence into <c>max_context_length</c>:
/// it keeps the first maxLength tokens (prompt, then completion) and drops the rest, masks included.
/// Completion token j sits at position p + j and trains when p + j &lt; maxLength, its mask is set and
/// it has a token before it to be predicted from (p + j &gt; 0). The loss normaliser and the step
/// metrics count by this rule, so they agree with the tokens the loss actually sees.
/// </summary>
public static class ContextWindow
{
    /// <summary>Completion tokens that train once the sequence is cut to <paramref name="maxLength"/>.</summary>
    public static int TrainableWithin(int promptLength, int completionLength, bool[]? mask, int maxLength)
    {
        int end = Math.Clamp(maxLength - promptLength, 0, completionLength); // completion tokens inside the window
        int n = 0;
        for (int j = promptLength == 0 ? 1 : 0; j < end; j++)
            if (mask is null || mask[j]) n++;
        return n;
    }

    /// <summary>Tokens past the window, and the trainable (mask-true) completion tokens among them.</summary>
    public static ContextCut Cut(int promptLength, int completionLength, bool[]? mask, int maxLength)
    {
        int length = promptLength + completionLength;
        if (length <= maxLength) return default;
        int start = Math.Clamp(maxLength - promptLength, 0, completionLength);
        int trainable = 0;
        for (int j = start; j < completionLength; j++)
            if (mask is null || mask[j]) trainable++;
        return new ContextCut(length - Math.Max(maxLength, 0), trainable);
    }
}
