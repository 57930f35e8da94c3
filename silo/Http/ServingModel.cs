using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// A request's model, ready to sample: resolved by name, its base model and adapter folders leased
/// for the request, and its tokenizer and template. Disposing releases the leases.
/// </summary>
public sealed class ServingModel(ServedModel model, ArtifactLease baseModel, ArtifactLease? adapter, ModelFiles files) : IDisposable
{
    public ServedModel Model { get; } = model;
    public ArtifactLease BaseModel { get; } = baseModel;
    public ArtifactLease? Adapter { get; } = adapter;
    public ModelFiles Files { get; } = files;

    public static async Task<ServingModel> OpenAsync(string name, ModelCatalog catalog, ModelLeases leases, ModelFilesCache cache, CancellationToken cancellation)
    {
        var model = await catalog.ResolveAsync(name, cancellation);
        ArtifactLease? baseModel = null, adapter = null;
        try
        {
            baseModel = await leases.BaseAsync(model, cancellation);
            adapter = await leases.AdapterAsync(model, cancellation);
            return new ServingModel(model, baseModel, adapter, cache.Get(baseModel.Path));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or NotSupportedException)
        {
            baseModel?.Dispose();
            adapter?.Dispose();
            // The name resolved but its files cannot be read here: the model is not servable, say why.
            throw OpenAIError.ModelNotFound(name, GrainInterfaces.Secrets.Redact(e.Message));
        }
        catch
        {
            baseModel?.Dispose();
            adapter?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The completion budget for a prompt: the requested one, or the rest of the context when none was
    /// asked (vLLM's default); a prompt that leaves no room, or a request past the context, is a 400 saying the numbers.
    /// </summary>
    public int MaxTokens(int promptTokens, int? requested, string maxTokensField, string promptField)
    {
        int context = Files.ContextLength;
        if (requested is int asked && (long)promptTokens + asked > context)
            throw OpenAIError.BadRequest($"This model's maximum context length is {context} tokens. However, you requested {(long)promptTokens + asked} tokens ({promptTokens} in the {promptField}, {asked} in the completion). Please reduce the length of the {promptField} or '{maxTokensField}'.", maxTokensField);
        if (promptTokens >= context)
            throw OpenAIError.BadRequest($"This model's maximum context length is {context} tokens, and the {promptField} alone has {promptTokens} tokens, which leaves none for the completion. Please shorten the {promptField}.", promptField);
        return requested ?? context - promptTokens;
    }

    public void Dispose()
    {
        Adapter?.Dispose();
        BaseModel.Dispose();
    }
}
