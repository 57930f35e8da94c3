namespace Orleans.Rft.Evaluators;

/// <summary>
/// Scores one rollout with a time limit that holds even for a synchronous evaluator: the work runs on
/// the thread pool (never on the caller's scheduler, which in a grain is the activation's single
/// thread), its token is cancelled at the deadline — built-ins check it in their loops — and the
/// caller stops waiting at the deadline whether or not the evaluator has noticed.
/// </summary>
public static class EvaluatorRunner
{
    /// <exception cref="TimeoutException">the evaluator did not finish within <paramref name="timeout"/></exception>
    public static async Task<EvaluationResult> RunAsync(IEvaluator evaluator, EvaluationInput input, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (EvaluationLimits.Oversize(input) is string reason) return EvaluationResult.Invalid(reason);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var work = Task.Run(() => evaluator.EvaluateAsync(input, deadline.Token), deadline.Token);
        try
        {
            return (await work.WaitAsync(timeout, cancellation).ConfigureAwait(false)).Checked();
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"evaluator timed out after {timeout.TotalSeconds:F0} s");
        }
        finally
        {
            // An evaluator still running at the deadline is told to stop; its late result is dropped.
            deadline.Cancel();
            _ = work.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }
}
