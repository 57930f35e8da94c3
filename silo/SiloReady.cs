namespace Orleans.Rft.Silo;

/// <summary>The start of the line the silo host writes to stdout once it is active and its gateway takes clients.</summary>
public static class SiloReady
{
    public const string Line = "rft-silo ready:";
}
