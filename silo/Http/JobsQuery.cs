using Microsoft.AspNetCore.Http;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Query parameters of the jobs API, read by hand so that a bad one is a 400 naming it and its range
/// (ASP.NET's own binding answers an unparsable <c>?step=x</c> with an empty 400).
/// </summary>
public static class JobsQuery
{
    public static int? Int(HttpRequest request, string name, int min, int max) => (int?)Int64(request, name, min, max);

    public static long? Int64(HttpRequest request, string name, long min, long max)
    {
        var values = request.Query[name];
        if (values.Count == 0) return null;
        if (values.Count > 1) throw OpenAIError.BadRequest($"Query parameter '{name}' is given {values.Count} times; give it once.", name);
        if (!long.TryParse(values[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw OpenAIError.BadRequest($"Query parameter '{name}' must be an integer from {min} to {max}, got '{Shorten(values[0])}'.", name);
        return value;
    }

    static string Shorten(string? s) => s is null ? "" : s.Length > 40 ? s[..40] + "…" : s;
}
