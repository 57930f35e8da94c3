namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// What a deployment may be called. A name is a request's <c>model</c> and a folder of the artifact
/// store (<c>deployments/&lt;name&gt;/…</c>), so it is short, ASCII, and has no '/': names with a '/'
/// are the endpoint's own forms (<c>jobs/{id}</c>, <c>jobs/{id}/steps/{n}</c>), which address a job's
/// adapters directly and can never be shadowed by a deployment.
/// </summary>
public static class ModelDeploymentNames
{
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="name"/> is a valid deployment name, otherwise the reason and the fix.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "a deployment needs a name (--name NAME), e.g. arithmetic-v1.";
        if (name.StartsWith("jobs/", StringComparison.OrdinalIgnoreCase) || name.Equals("jobs", StringComparison.OrdinalIgnoreCase))
            return $"'{name}' clashes with the endpoint's job forms (jobs/{{id}}, jobs/{{id}}/steps/{{n}}), which serve a job's adapter without deploying it; choose another name.";
        if (name.Length > MaxLength) return $"deployment name '{name[..20]}…' has {name.Length} characters; at most {MaxLength} are allowed.";
        if (!char.IsAsciiLetterOrDigit(name[0])) return $"deployment name '{name}' must start with a letter or a digit.";
        var bad = name.FirstOrDefault(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'));
        if (bad != default)
            return bad == '/'
                ? $"deployment name '{name}' contains '/': names with '/' are reserved for the endpoint's job forms (jobs/{{id}}); use letters, digits, '.', '_' and '-'."
                : $"deployment name '{name}' contains '{bad}'; use letters, digits, '.', '_' and '-'.";
        if (name.Contains("..")) return $"deployment name '{name}' contains '..'; use single dots.";
        return null;
    }

    /// <summary><paramref name="name"/> itself, or an <see cref="ArgumentException"/> saying what is wrong with it.</summary>
    public static string Checked(string? name) => Problem(name) is { } problem ? throw new ArgumentException(problem) : name!;
}
