namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// How much data one grain message may carry. Tensors, adapters and uploads cross grains in chunks of
/// at most <see cref="MaxChunkBytes"/>: NOTES.md measured that a huge message drops the
/// silo-to-silo connection.
/// </summary>
public static class MessageLimits
{
    public const int MaxChunkBytes = 4 << 20;
    public const int MaxChunkFloats = MaxChunkBytes / sizeof(float);
}
