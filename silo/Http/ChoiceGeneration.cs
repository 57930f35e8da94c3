using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>What happens to one choice of a response: a token sampled, or the choice finished.</summary>
public abstract record ChoiceEvent(int Index);
public sealed record ChoiceToken(int Index, GeneratedToken Token) : ChoiceEvent(Index);
public sealed record ChoiceDone(int Index, GeneratedSequence Sequence) : ChoiceEvent(Index);

/// <summary>One sequence to sample for a response: choice <see cref="Index"/> of prompt <see cref="PromptIds"/>.</summary>
public sealed record ChoiceRequest(int Index, int[] PromptIds, SamplingOptions Options);

/// <summary>
/// Samples a response's choices at once through <see cref="IGenerationService"/>, each on the least
/// busy device, and hands back their tokens (when <c>streamTokens</c>) and ends as one ordered stream
/// of events per choice. Tokens pass through an unbounded channel: the generation service calls back
/// from the device thread, which must never wait for a slow client. A whole (non-streamed) answer asks
/// for no tokens: each would wake a thread-pool thread per token, which on a small machine takes
/// a core from the decode step. Cancelling (the client went away) cancels every choice; one
/// choice failing cancels the others and ends the stream with its exception.
/// </summary>
public sealed class ChoiceGeneration(IGenerationService generation, DeviceBalancer devices)
{
    public async IAsyncEnumerable<ChoiceEvent> RunAsync(ArtifactLease baseModel, ArtifactLease? adapter, string? adapterKey,
        IReadOnlyList<ChoiceRequest> choices, bool streamTokens, [EnumeratorCancellation] CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var events = Channel.CreateUnbounded<ChoiceEvent>(new UnboundedChannelOptions { SingleReader = true });
        var running = choices.Select(async c =>
        {
            using var device = devices.Assign();
            var request = new SequenceRequest(baseModel, adapter?.Path, adapterKey, c.PromptIds, c.Options);
            try
            {
                Action<GeneratedToken>? onToken = streamTokens ? t => events.Writer.TryWrite(new ChoiceToken(c.Index, t)) : null;
                var sequence = await generation.GenerateAsync(device.Device, request, onToken, stop.Token);
                events.Writer.TryWrite(new ChoiceDone(c.Index, sequence));
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }).ToList();
        _ = Task.WhenAll(running).ContinueWith(t => events.Writer.TryComplete(t.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? t.Exception?.InnerException),
            TaskScheduler.Default);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(cancellation)) yield return e;
        }
        finally
        {
            stop.Cancel(); // the consumer stopped early (client gone, or an error writing): stop sampling
            try { await Task.WhenAll(running); } catch { } // the leases the caller holds must outlive every choice
        }
    }
}
