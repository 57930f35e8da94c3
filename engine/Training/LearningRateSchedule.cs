namespace Orleans.Rft.Engine.Training;

/// <summary>
/// Linear warm-up to the base rate, then constant or cosine decay to <c>MinRatio · base</c> (the
/// shape of HF's <c>get_cosine_schedule_with_warmup</c>, except that step 0 already trains at
/// <c>base / warmup</c> instead of 0).
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, int WarmupSteps = 0, int TotalSteps = 0, string Kind = "constant", double MinRatio = 0.0)
{
    public double At(int step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        if (Kind != "cosine" || TotalSteps <= WarmupSteps) return BaseRate;
        var progress = Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps), 0, 1);
        return BaseRate * (MinRatio + (1 - MinRatio) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    public void Validate()
    {
        if (BaseRate <= 0 || double.IsNaN(BaseRate)) throw new ArgumentException($"learning_rate must be > 0 (got {BaseRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warmup_steps must be ≥ 0 (got {WarmupSteps}).");
        if (Kind is not ("constant" or "cosine")) throw new ArgumentException($"lr schedule '{Kind}' must be constant or cosine.");
    }
}
