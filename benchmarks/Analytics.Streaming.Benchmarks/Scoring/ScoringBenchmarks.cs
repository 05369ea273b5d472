using Analytics.Streaming.Scoring;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Scoring;

/// <summary>Per-event cost of the scoring functions; the baseline is a hand-written weighted sum of the same nine inputs.</summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private const int N = 1024;
    private readonly MachineReading[] _readings = new MachineReading[N];
    private readonly CustomerActivity[] _customers = new CustomerActivity[N];
    private readonly MaintenancePriorityScorer _maintenance = new();
    private readonly CustomerValueScorer _customer = new();
    private readonly FeatureContribution[] _explanation = new FeatureContribution[MaintenancePriorityScorer.FeatureCount];
    private MachineBaseline _baseline;
    private EwmaZScoreDetector _ewma = new();

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(6);
        for (int i = 0; i < N; i++)
        {
            _readings[i] = new MachineReading(
                70 + (random.NextDouble() * 4), 5 + random.NextDouble(), 100 + random.NextDouble(), 50 + (random.NextDouble() * 10), 100 + (random.NextDouble() * 6),
                random.Next(3), random.Next(2), random.Next(2_000), random.NextDouble());
            _customers[i] = new CustomerActivity(random.Next(365), random.Next(30), random.NextDouble() * 5_000, 1 + (random.NextDouble() * 4), random.Next(1_000), random.NextDouble() * 0.2);
        }

        foreach (MachineReading r in _readings)
        {
            _maintenance.Score(r, ref _baseline);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public double HandWrittenWeightedSum()
    {
        double total = 0;
        foreach (ref readonly MachineReading r in _readings.AsSpan())
        {
            total += (0.15 * Math.Min(Math.Abs(r.Temperature - 72) / 4, 1)) + (0.2 * Math.Min(Math.Abs(r.Vibration - 5.5) / 2, 1))
                + (0.1 * Math.Min(Math.Abs(r.Pressure - 100.5) / 2, 1)) + (0.05 * Math.Min(Math.Abs(r.Humidity - 55) / 12, 1))
                + (0.1 * Math.Min(Math.Abs(r.EnergyUse - 103) / 7, 1)) + (0.1 * Math.Min(r.ErrorCount / 5, 1)) + (0.05 * r.AnomalyFlag)
                + (0.15 * (1 - Math.Min(r.RemainingLifeHours / 720, 1))) + (0.1 * r.DowntimeRisk);
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double MaintenancePriority()
    {
        double total = 0;
        foreach (ref readonly MachineReading r in _readings.AsSpan())
        {
            total += _maintenance.Score(r, ref _baseline).Score;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double MaintenancePriorityExplained()
    {
        double total = 0;
        foreach (ref readonly MachineReading r in _readings.AsSpan())
        {
            total += _maintenance.Score(r, ref _baseline, _explanation).Score;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double CustomerValue()
    {
        double total = 0;
        foreach (ref readonly CustomerActivity c in _customers.AsSpan())
        {
            total += _customer.Score(c);
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double EwmaZScore()
    {
        double total = 0;
        foreach (ref readonly MachineReading r in _readings.AsSpan())
        {
            total += _ewma.Update(r.Temperature).Score;
        }

        return total;
    }
}

/// <summary>Per-update cost of the random cut forest (3 dimensions, 256 samples per tree) by tree count; the baseline is three EWMA z-score detectors.</summary>
[MemoryDiagnoser]
public class RandomCutForestBenchmarks
{
    private const int N = 256;
    private readonly double[][] _points = new double[N][];
    private readonly double[] _attribution = new double[3];
    private RandomCutForest _forest = null!;
    private EwmaZScoreDetector _x = new();
    private EwmaZScoreDetector _y = new();
    private EwmaZScoreDetector _z = new();

    /// <summary>Gets or sets the number of trees (100 is the default).</summary>
    [Params(50, 100)]
    public int Trees { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        for (int i = 0; i < N; i++)
        {
            double phase = i * 2 * Math.PI / 200;
            _points[i] = [(10 * Math.Sin(phase)) + random.NextDouble(), (10 * Math.Cos(phase)) + random.NextDouble(), (5 * Math.Sin(phase)) + 20 + random.NextDouble()];
        }

        _forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 3, TreeCount = Trees });
        for (int i = 0; i < 4_000; i++)
        {
            _forest.Update(_points[i % N]);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public double ThreeEwmaZScores()
    {
        double total = 0;
        foreach (double[] p in _points)
        {
            total += _x.Update(p[0]).Score + _y.Update(p[1]).Score + _z.Update(p[2]).Score;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double ForestUpdate()
    {
        double total = 0;
        foreach (double[] p in _points)
        {
            total += _forest.Update(p).Score;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double ForestUpdateWithAttribution()
    {
        double total = 0;
        foreach (double[] p in _points)
        {
            total += _forest.Update(p, _attribution).Score;
        }

        return total;
    }
}
