namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// Levenshtein distance in linear memory: the Wagner–Fischer recurrence (Wagner &amp; Fischer 1974)
/// keeps only the previous and the current row, so two strings of n and m characters take
/// O(min(n, m)) memory and O(n·m) time, never an (n+1)×(m+1) matrix. The loop checks its
/// cancellation token once per row, so a timeout stops it.
/// </summary>
public static class EditDistance
{
    /// <summary>d(i, j) = min(d(i−1, j) + 1, d(i, j−1) + 1, d(i−1, j−1) + [a_i ≠ b_j]).</summary>
    public static int Levenshtein(string a, string b, CancellationToken cancellation = default)
    {
        // A common prefix or suffix never changes the distance: drop it (a near-match costs O(n), not O(n·m)).
        int start = 0;
        while (start < a.Length && start < b.Length && a[start] == b[start]) start++;
        int end = 0;
        while (end < a.Length - start && end < b.Length - start && a[^(end + 1)] == b[^(end + 1)]) end++;
        a = a[start..^end];
        b = b[start..^end];
        if (a.Length < b.Length) (a, b) = (b, a); // rows run over the longer string, the row over the shorter
        if (b.Length == 0) return a.Length;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            current[0] = i;
            var ai = a[i - 1];
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (ai == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
