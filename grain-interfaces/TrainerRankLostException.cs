namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// A trainer rank was called but holds no model: its activation was collected or released and this
/// one is fresh. Not a job failure: the job rebuilds its ranks and resumes from its last checkpoint.
/// </summary>
[GenerateSerializer, Alias("rft.TrainerRankLostException")]
public sealed class TrainerRankLostException : Exception
{
    public TrainerRankLostException() { }
    public TrainerRankLostException(string message) : base(message) { }
    public TrainerRankLostException(string message, Exception inner) : base(message, inner) { }
}
