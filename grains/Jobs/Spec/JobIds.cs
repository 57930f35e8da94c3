namespace Orleans.Rft.Grains.Jobs.Spec;

public static class JobIds
{
    /// <summary>A readable, sortable id: the job name and the UTC submit time.</summary>
    public static string New(string name) => $"{Sanitized(name)}-{DateTime.UtcNow:yyyyMMdd-HHmmss}";

    /// <summary>The name with anything but letters, digits, '-' and '_' replaced by '-': ids appear in URLs and artifact paths.</summary>
    public static string Sanitized(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
}
