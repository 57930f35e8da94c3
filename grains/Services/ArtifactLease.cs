namespace Orleans.Rft.Grains.Services;

/// <summary>
/// A materialized artifact (<see cref="Path"/>, a file or folder on this silo) that the blob cache
/// will not evict until the lease is disposed. A base model is leased for as long as something may
/// still read its files: a rollout batch, a served model (<see cref="ModelHost"/>), a trainer rank.
/// Without it, materializing adapters past <c>Rft:ArtifactCacheMiB</c> evicts the base model and its
/// next load fails with <see cref="FileNotFoundException"/>.
/// </summary>
public sealed class ArtifactLease : IDisposable
{
    readonly IArtifactStore store;
    readonly IDisposable pin;

    public ArtifactLease(IArtifactStore store, string path, IDisposable pin) => (this.store, Path, this.pin) = (store, path, pin);

    public string Path { get; }

    /// <summary>Another pin on the same folder, for a holder that outlives this lease (a served model); the folder is cached while this lease holds it.</summary>
    public IDisposable Share() => store.TryPin(Path) ?? NothingToPin;

    public void Dispose() => pin.Dispose();

    /// <summary>What stores that never evict hand out.</summary>
    public static readonly IDisposable NothingToPin = new Nothing();

    sealed class Nothing : IDisposable { public void Dispose() { } }
}
