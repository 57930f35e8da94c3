namespace Orleans.Rft.Silo.Http;

/// <summary>Where a served model's files come from: a folder the operator configured on this silo, a path in the artifact store, or a job spec's reference (<c>base_model</c>).</summary>
public enum ModelSource { ConfiguredFolder, StorePath, SpecReference }

/// <summary>
/// A name the endpoint answers to, resolved: its base model and, for an adapter, the adapter's files
/// and <see cref="AdapterKey"/> (which weights: artifact path and version, so a new version is loaded
/// and an unchanged one is shared). <see cref="Parent"/> is the base model's name for adapters, as
/// vLLM lists LoRA modules.
/// </summary>
public sealed record ServedModel(
    string Id,
    string BaseModel,
    ModelSource BaseSource,
    string? Adapter,
    ModelSource AdapterSource,
    string? AdapterKey,
    string? Parent,
    DateTimeOffset Created)
{
    public bool IsAdapter => Adapter is not null;
}
