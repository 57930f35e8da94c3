namespace Orleans.Rft.Evaluators;

/// <summary>
/// Scores one rollout with a time limit that holds even for a synchronous evaluator: the work runs on
/// a thread of its own (<see cref="EvaluatorThreads"/>: kept between items, a new one whenever none is
/// idle), never on the caller's scheduler, which in a grain is the activation's single thread, and
/// not on a thread-pool thread, so a busy evaluator cannot starve the timers that end it. An
/// <see cref="IEvaluator.IsAsynchronous"/> evaluator (python, http, judge: awaited I/O that holds no
/// thread) runs on the thread pool instead. Its token is cancelled at the deadline — built-ins check
/// it in their loops — and the caller
/// stops waiting at the deadline whether or not the evaluator has noticed. A result that arrives
/// after the deadline is a timeout too, so the outcome never depends on how promptly a timer ran.
/// </summary>
public static class EvaluatorRunner
{
    /// <exception cref="TimeoutException">the evaluator did not finish within <paramref name="timeout"/></exception>
    public static async Task<EvaluationResult> RunAsync(IEvaluator evaluator, EvaluationInput input, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (EvaluationLimits.Oversize(input) is string reason) return EvaluationResult.Invalid(reason);
        var result = await Run(token => evaluator.EvaluateAsync(input, token), evaluator.IsAsynchronous, timeout, cancellation).ConfigureAwait(false);
        return result.Checked();
    }

    /// <summary>
    /// Scores one prompt's rollouts together (<c>groupwise: true</c>) under one <paramref name="timeout"/>;
    /// an oversize input makes the whole group invalid, since a groupwise reward needs every member.
    /// </summary>
    /// <exception cref="TimeoutException">the evaluator did not finish within <paramref name="timeout"/></exception>
    public static async Task<IReadOnlyList<EvaluationResult>> RunGroupAsync(IGroupEvaluator evaluator, IReadOnlyList<EvaluationInput> group, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (group.Select(EvaluationLimits.Oversize).FirstOrDefault(r => r is not null) is string reason)
            return group.Select(_ => EvaluationResult.Invalid($"a rollout of this group: {reason}")).ToList();
        var results = await Run(token => evaluator.EvaluateGroupAsync(group, token), evaluator.IsAsynchronous, timeout, cancellation).ConfigureAwait(false);
        if (results.Count != group.Count) return group.Select(_ => EvaluationResult.Invalid($"the evaluator returned {results.Count} results for {group.Count} rollouts")).ToList();
        return results.Select(r => r.Checked()).ToList();
    }

    static Task<T> OnEvaluatorThread<T>(Func<CancellationToken, Task<T>> evaluate, CancellationToken token)
    {
        var started = new TaskCompletionSource<Task<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        EvaluatorThreads.Run(() =>
        {
            try { started.SetResult(evaluate(token)); }
            catch (Exception e) { started.SetException(e); }
        });
        return started.Task.Unwrap();
    }

    static async Task<T> Run<T>(Func<CancellationToken, Task<T>> evaluate, bool asynchronous, TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var work = asynchronous ? Task.Run(() => evaluate(deadline.Token), deadline.Token) : OnEvaluatorThread(evaluate, deadline.Token);
        try
        {
            var result = await work.WaitAsync(timeout, cancellation).ConfigureAwait(false);
            if (clock.Elapsed > timeout) throw new TimeoutException($"evaluator timed out after {timeout.TotalSeconds:G3} s");
            return result;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"evaluator timed out after {timeout.TotalSeconds:G3} s");
        }
        finally
        {
            // An evaluator still running at the deadline is told to stop; its late result is dropped.
            deadline.Cancel();
            _ = work.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }
}
