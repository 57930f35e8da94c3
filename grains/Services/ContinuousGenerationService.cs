using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// <see cref="IGenerationService"/> over continuous batching: every sequence joins the running batch of
/// its (device, base model) scheduler between decode steps, with its own adapter, settings and seed,
/// and leaves when it ends — training rollouts of several policy versions and served requests share
/// one batch. The base and adapter are held (<see cref="ModelHost.Lease"/>) until the sequence ends.
/// Tokens are reported as they are sampled, on the device thread.
/// </summary>
public sealed class ContinuousGenerationService(DeviceRegistry devices, ModelHost host) : IGenerationService
{
    public async Task<GeneratedSequence> GenerateAsync(string device, SequenceRequest request, Action<GeneratedToken>? onToken = null, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var worker = devices.Get(device);
        // Acquire and submit in one device work item: the rows of a request queued together join the same step.
        var (lease, handle) = await worker.RunAsync(() =>
        {
            var held = host.Acquire(worker, request.BaseModel, request.AdapterFolder, request.AdapterKey);
            try
            {
                return (held, held.Batcher.Submit(new SequenceSubmission(request.PromptIds, request.Options, request.Options.Seed, held.Adapter, onToken, cancellation)));
            }
            catch
            {
                held.Dispose();
                throw;
            }
        });
        try
        {
            using var wake = cancellation.Register(worker.Wake); // a cancelled row leaves at the next step
            return await handle.Completion;
        }
        finally { lease.Dispose(); }
    }

    public async Task<GeneratedSequence[]> GenerateManyAsync(string device, IReadOnlyList<SequenceRequest> requests, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        if (requests.Count == 0) return [];
        var worker = devices.Get(device);
        // One device work item: every row is queued before the scheduler's next step, so all join that step.
        var submitted = await worker.RunAsync(() =>
        {
            var held = new List<(ModelHost.Lease Lease, SequenceHandle Handle)>();
            try
            {
                foreach (var r in requests)
                {
                    var lease = host.Acquire(worker, r.BaseModel, r.AdapterFolder, r.AdapterKey);
                    try { held.Add((lease, lease.Batcher.Submit(new SequenceSubmission(r.PromptIds, r.Options, r.Options.Seed, lease.Adapter, null, cancellation)))); }
                    catch { lease.Dispose(); throw; }
                }
                return held;
            }
            catch
            {
                foreach (var (lease, handle) in held) { handle.Cancel(); lease.Dispose(); }
                throw;
            }
        });
        try
        {
            using var wake = cancellation.Register(worker.Wake);
            return await Task.WhenAll(submitted.Select(s => s.Handle.Completion));
        }
        finally { foreach (var (lease, _) in submitted) lease.Dispose(); }
    }
}
