using System.Collections.Concurrent;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Leases a served model's files for one request: the base model folder and the adapter folder,
/// pinned in the blob cache while the request generates (a served model keeps its own pin on the
/// base, <see cref="ModelHost"/>). Adapters are materialized from the artifact store on first use.
/// The local folder of each reference is remembered, so a request whose files are still cached pays
/// no store round trip (as <c>RolloutWorkerGrain</c> does for rollouts).
/// </summary>
public sealed class ModelLeases(IArtifactStore store)
{
    readonly ConcurrentDictionary<(ModelSource, string), string> localFolders = new();

    public Task<ArtifactLease> BaseAsync(ServedModel model, CancellationToken cancellation) => LeaseAsync(model.BaseSource, model.BaseModel, cancellation);

    public async Task<ArtifactLease?> AdapterAsync(ServedModel model, CancellationToken cancellation) =>
        model.Adapter is null ? null : await LeaseAsync(model.AdapterSource, model.Adapter, cancellation);

    async Task<ArtifactLease> LeaseAsync(ModelSource source, string reference, CancellationToken cancellation)
    {
        if (source == ModelSource.ConfiguredFolder)
        {
            if (!Directory.Exists(reference)) throw new DirectoryNotFoundException($"the configured model folder '{reference}' does not exist on this silo.");
            // The operator's own folder: read as given (Rft:AllowLocalPaths governs job specs, not this).
            return new ArtifactLease(store, reference, store.TryPin(reference) ?? ArtifactLease.NothingToPin);
        }
        if (localFolders.TryGetValue((source, reference), out var known) && store.TryPin(known) is { } pin)
        {
            if (Directory.Exists(known)) return new ArtifactLease(store, known, pin);
            pin.Dispose();
        }
        var lease = source == ModelSource.StorePath
            ? await store.LeaseFolderAsync(reference, cancellation)
            : await store.LeaseAsync(reference, "model", cancellation);
        localFolders[(source, reference)] = lease.Path;
        return lease;
    }
}
