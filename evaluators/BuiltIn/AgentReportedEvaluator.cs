namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>agent_reported</c>: the score a remote agent reported itself, <c>info.score</c> of its final
/// status (Eval Protocol's rollout status), with its reason. A rollout whose agent reported no score,
/// or one that is not a number in [0, 1], is invalid with that said: it stays out of the baseline
/// rather than being scored 0 (the agent's own bug is no signal about the policy).
/// </summary>
public sealed class AgentReportedEvaluator : IEvaluator
{
    public string Type => "agent_reported";

    public static AgentReportedEvaluator From(SpecReader r) => new();

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation) => Task.FromResult(Score(input));

    static EvaluationResult Score(EvaluationInput input)
    {
        if (input.ReportedScore is not double score)
            return EvaluationResult.Invalid(input.Trajectory is null
                ? "agent_reported: this rollout has no agent; agent_reported scores rollouts of agent: {type: remote} by the score the agent reports"
                : "agent_reported: the agent reported no score; its final status must carry info.score (a number in [0, 1])");
        if (double.IsNaN(score) || score < 0 || score > 1)
            return EvaluationResult.Invalid($"agent_reported: the agent reported score {score}, outside [0, 1]; the agent must scale info.score into [0, 1] (it is never clipped)");
        return EvaluationResult.Valid(score, string.IsNullOrEmpty(input.ReportedReason) ? "score reported by the agent" : input.ReportedReason);
    }
}
