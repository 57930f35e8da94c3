using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// <see cref="IGenerationService"/> over the batch sampler: each request runs as its own batch on the
/// device thread, and its tokens are reported when it ends. Superseded by the continuous-batching
/// scheduler; kept only until that lands.
/// </summary>
public sealed class SamplerGenerationService(DeviceRegistry devices, ModelHost host) : IGenerationService
{
    public async Task<GeneratedSequence> GenerateAsync(string device, SequenceRequest request, Action<GeneratedToken>? onToken = null, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var worker = devices.Get(device);
        var options = request.Options.Seed is long seed ? request.Options with { Seed = null, RowSeeds = [seed] } : request.Options;
        var sequence = await worker.RunAsync(() =>
        {
            var model = host.ForGeneration(worker, request.BaseModel, request.AdapterFolder, request.AdapterKey?.GetHashCode() ?? -1);
            return Sampler.Generate(model, [request.PromptIds], options)[0];
        });
        if (onToken is not null)
            for (int i = 0; i < sequence.TokenIds.Length; i++)
                onToken(new GeneratedToken(sequence.TokenIds[i], sequence.SampledLogProbs[i], sequence.PolicyLogProbs[i], null, null, i == sequence.TokenIds.Length - 1 ? sequence.Text : ""));
        return sequence;
    }
}
