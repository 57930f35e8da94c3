namespace Orleans.Rft.Client.Jobs;

public static class JobIds
{
    /// <summary>A readable, sortable id: the job name and the UTC submit time.</summary>
    public static string New(string name) =>
        $"{new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray())}-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
}
