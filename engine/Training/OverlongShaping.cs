namespace Orleans.Rft.Engine.Training;

/// <summary>
/// DAPO's soft overlong punishment (Yu et al. 2025, eq. 13), added to a completion's reward:
/// <code>
/// R_length(y) = 0                                  if |y| ≤ L_max − L_cache
///             = ((L_max − L_cache) − |y|) / L_cache  if L_max − L_cache &lt; |y| ≤ L_max
///             = −1                                 if L_max &lt; |y|
/// </code>
/// scaled by a penalty factor (veRL's <c>overlong_penalty_factor</c>). L_max is the sampler's
/// <c>max_tokens</c>, L_cache the <c>overlong_buffer</c>, |y| the completion's token count (stop
/// token included, as veRL counts the valid response length). A completion cut at the limit gets
/// −penalty, one that stops just inside the buffer almost nothing: the model learns to finish before
/// the limit without a cliff at it.
/// </summary>
public static class OverlongShaping
{
    /// <param name="length">|y|, completion tokens</param>
    /// <param name="maxTokens">L_max</param>
    /// <param name="buffer">L_cache; 0 turns shaping off</param>
    /// <param name="penalty">factor on R_length (1 in the paper)</param>
    public static double Penalty(int length, int maxTokens, int buffer, double penalty)
    {
        if (buffer < 0 || buffer > maxTokens) throw new ArgumentOutOfRangeException(nameof(buffer), $"overlong_buffer must be in [0, max_tokens = {maxTokens}] (got {buffer}).");
        if (buffer == 0) return 0;
        int free = maxTokens - buffer;                         // L_max − L_cache
        if (length <= free) return 0;
        if (length > maxTokens) return -penalty;
        return penalty * (free - length) / buffer;
    }

    /// <summary>The shaped reward: a valid score plus its penalty; an invalid score (null) stays invalid.</summary>
    public static double? Shape(double? reward, int length, int maxTokens, int buffer, double penalty) =>
        reward is double r ? r + Penalty(length, maxTokens, buffer, penalty) : null;
}
