using System.Text.RegularExpressions;

namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// Masks credentials in text that may be logged or printed: connection-string and query keys
/// (<c>AccountKey=</c>, <c>SharedAccessSignature=</c>, <c>SharedAccessKey=</c>, SAS <c>sig=</c>,
/// <c>Password=</c>/<c>Pwd=</c>, <c>api_key=</c>, <c>access_token=</c>, <c>client_secret=</c>,
/// <c>token=</c>), <c>Bearer</c> tokens, JSON fields of the same names, and the password of a URL's
/// user info (<c>https://user:pass@host</c>). Every host prints configuration and error messages
/// through it: a connection string must never reach a log or a terminal whole.
/// </summary>
public static partial class Secrets
{
    public const string Mask = "***";

    // name=value up to the next ';', '&', quote or white space (connection strings and URL queries)
    [GeneratedRegex("""(?i)(?<![A-Za-z0-9])(AccountKey|SharedAccessSignature|SharedAccessKey|sig|Password|Pwd|api[-_]?key|access[-_]?token|client[-_]?secret|token)=([^;&\s"']+)""")]
    private static partial Regex KeyValue();

    [GeneratedRegex("""(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*""")]
    private static partial Regex AuthorizationHeader();

    // "password": "…" and friends in JSON
    [GeneratedRegex("""(?i)("(?:AccountKey|SharedAccessSignature|SharedAccessKey|Password|api[-_]?key|access[-_]?token|client[-_]?secret|token|secret)"\s*:\s*")((?:[^"\\]|\\.)*)(")""")]
    private static partial Regex JsonField();

    [GeneratedRegex("""(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s]+):([^@/\s]+)@""")]
    private static partial Regex UrlUserInfo();

    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        text = KeyValue().Replace(text, m => $"{m.Groups[1].Value}={Mask}");
        text = AuthorizationHeader().Replace(text, m => $"{m.Groups[1].Value} {Mask}");
        text = JsonField().Replace(text, m => m.Groups[1].Value + Mask + m.Groups[3].Value);
        return UrlUserInfo().Replace(text, m => $"{m.Groups[1].Value}:{Mask}@");
    }
}
