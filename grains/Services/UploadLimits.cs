namespace Orleans.Rft.Grains.Services;

/// <summary>The largest file one upload may announce (<c>Rft:MaxUploadMiB</c>), so a client cannot fill a silo's disk with one call.</summary>
public sealed record UploadLimits(long MaxBytes)
{
    public static UploadLimits FromMiB(long mib) => new(mib * 1024 * 1024);
}
