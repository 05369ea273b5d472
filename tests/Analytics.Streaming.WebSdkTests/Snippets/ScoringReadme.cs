using System.Runtime.InteropServices;
using Analytics.Streaming.Scoring;

namespace ReadmeSnippets.Scoring;

/// <summary>The Scoring README's block.</summary>
public static class ScoringReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static void Score(string machineId, double temp, double vibration, double pressure, double humidity, double power, double errors, double rul, double risk)
    {
        // <readme file="src/Analytics.Streaming.Scoring/README.md" block="1">
        var scorer = new MaintenancePriorityScorer();                 // defaults below
        var baselines = new Dictionary<string, MachineBaseline>();    // per-machine state, kept by you
        ref MachineBaseline baseline = ref CollectionsMarshal.GetValueRefOrAddDefault(baselines, machineId, out _);
        Span<FeatureContribution> why = stackalloc FeatureContribution[MaintenancePriorityScorer.FeatureCount];
        MaintenancePriority p = scorer.Score(new MachineReading(temp, vibration, pressure, humidity, power,
            ErrorCount: errors, RemainingLifeHours: rul, DowntimeRisk: risk), ref baseline, why);
        // p.Score in [0, 1], p.Band (Low/Medium/High/Critical), p.TopFactor/SecondFactor/ThirdFactor; why[i].Contribution sums to p.Score
        // </readme>
    }
}
