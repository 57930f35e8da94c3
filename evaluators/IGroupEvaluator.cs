namespace Orleans.Rft.Evaluators;

/// <summary>
/// An evaluator that can score all rollouts of one prompt in one call (<c>groupwise: true</c>): for
/// ranking rewards and rewards relative to the group. Its <see cref="IEvaluator.EvaluateAsync"/>
/// scores a group of one.
/// </summary>
public interface IGroupEvaluator : IEvaluator
{
    /// <summary>True when the spec asked for groupwise scoring; a caller then sends whole groups.</summary>
    bool Groupwise { get; }

    /// <summary>One result per input, in order; the inputs share one dataset row.</summary>
    Task<IReadOnlyList<EvaluationResult>> EvaluateGroupAsync(IReadOnlyList<EvaluationInput> group, CancellationToken cancellation);
}
