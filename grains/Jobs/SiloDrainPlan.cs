using Orleans.Rft.Grains.Placement;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>Which of a job's trainer ranks sit on a silo, from their keys (<c>{jobId}|{generation}-r{rank}|{silo}|{device}</c>, <see cref="StepCluster"/>).</summary>
public static class SiloDrainPlan
{
    public static IReadOnlyList<string> RanksOn(IEnumerable<string> trainerKeys, string silo) =>
        trainerKeys.Where(k => DeviceKeys.Parse(k).Silo == silo).ToList();

    /// <summary>The job id of a trainer rank's key (the part before the first '|'; job ids have no '|').</summary>
    public static string JobOf(string trainerKey) => trainerKey[..Math.Max(0, trainerKey.IndexOf('|'))];
}
