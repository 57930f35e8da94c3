namespace Orleans.Rft.Grains.Deployments;

/// <summary>
/// Where deployed adapters live in the artifact store: a copy per deployment, never a job's own
/// adapter folder, which the job prunes as it trains (retention, retirement, a rerun's generation).
/// </summary>
public static class DeploymentPaths
{
    public const string Root = "deployments";

    /// <summary><c>deployments/&lt;name&gt;/&lt;UTC time&gt;-&lt;random&gt;</c>: unique per deploy, so a redeploy never overwrites files a silo may be loading.</summary>
    public static string NewCopy(string name, DateTimeOffset at) => $"{Root}/{name}/{at:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The deployment folder (<c>deployments/&lt;name&gt;/&lt;copy&gt;</c>) a stored file belongs to.</summary>
    public static string CopyOf(string file) => string.Join('/', file.Split('/').Take(3));
}
