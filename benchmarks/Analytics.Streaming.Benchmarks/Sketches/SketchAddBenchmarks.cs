using System.Globalization;
using Analytics.Streaming.Sketches;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Sketches;

/// <summary>Per-update cost of HyperLogLog against exact distinct counting with a HashSet.</summary>
[MemoryDiagnoser]
public class HyperLogLogAddBenchmarks
{
    private const int N = 4096;
    private readonly long[] _numbers = new long[N];
    private readonly string[] _strings = new string[N];
    private readonly HyperLogLogSketch _sketch = new();
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < N; i++)
        {
            _numbers[i] = random.NextInt64();
            _strings[i] = "user-" + random.Next(1_000_000).ToString(CultureInfo.InvariantCulture);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public int HashSetAddString()
    {
        HashSet<string> exact = _exact;
        foreach (string s in _strings)
        {
            exact.Add(s);
        }

        return exact.Count;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public void HyperLogLogAddString()
    {
        HyperLogLogSketch sketch = _sketch;
        foreach (string s in _strings)
        {
            sketch.Add(s);
        }
    }

    [Benchmark(OperationsPerInvoke = N)]
    public void HyperLogLogAddInt64()
    {
        HyperLogLogSketch sketch = _sketch;
        foreach (long v in _numbers)
        {
            sketch.Add(v);
        }
    }
}

/// <summary>Per-update cost of the DDSketch quantile sketch against keeping every value for an exact sort.</summary>
[MemoryDiagnoser]
public class QuantileAddBenchmarks
{
    private const int N = 4096;
    private readonly double[] _values = new double[N];
    private readonly QuantileSketch _sketch = new();
    private readonly List<double> _exact = new(N);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2);
        for (int i = 0; i < N; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            _values[i] = Math.Exp(3 + normal); // latency-like, milliseconds
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public int ListAdd()
    {
        List<double> exact = _exact;
        exact.Clear();
        foreach (double v in _values)
        {
            exact.Add(v);
        }

        return exact.Count;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public void QuantileSketchAdd()
    {
        QuantileSketch sketch = _sketch;
        foreach (double v in _values)
        {
            sketch.Add(v);
        }
    }
}

/// <summary>Per-update cost of Space-Saving top-K against exact counting in a Dictionary (Zipf-distributed referrers).</summary>
[MemoryDiagnoser]
public class TopKAddBenchmarks
{
    private const int N = 4096;
    private readonly string[] _items = new string[N];
    private readonly TopKSketch<string> _sketch = new(TopKSketch.DefaultCapacity(10));
    private readonly Dictionary<string, long> _exact = new(StringComparer.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        var names = new string[50_000];
        var cumulative = new double[names.Length];
        double sum = 0;
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = "https://referrer-" + i.ToString(CultureInfo.InvariantCulture) + ".example/";
            sum += 1 / Math.Pow(i + 1, 1.1);
            cumulative[i] = sum;
        }

        var random = new Random(3);
        for (int i = 0; i < N; i++)
        {
            int index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            _items[i] = names[Math.Min(index < 0 ? ~index : index, names.Length - 1)];
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public int DictionaryCount()
    {
        Dictionary<string, long> exact = _exact;
        foreach (string item in _items)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(exact, item, out _)++;
        }

        return exact.Count;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public void TopKAdd()
    {
        TopKSketch<string> sketch = _sketch;
        foreach (string item in _items)
        {
            sketch.Add(item);
        }
    }
}

/// <summary>Merging and serializing window slices: what a sink or a cross-shard merge pays per sketch.</summary>
[MemoryDiagnoser]
public class SketchMergeBenchmarks
{
    private readonly HyperLogLogSketch _hllA = new();
    private readonly HyperLogLogSketch _hllB = new();
    private readonly QuantileSketch _quantileA = new();
    private readonly QuantileSketch _quantileB = new();
    private byte[] _hllBytes = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(4);
        for (int i = 0; i < 100_000; i++)
        {
            _hllA.Add(random.NextInt64());
            _hllB.Add(random.NextInt64());
            _quantileA.Add(Math.Exp(random.NextDouble() * 10));
            _quantileB.Add(Math.Exp(random.NextDouble() * 10));
        }

        _hllBytes = _hllA.Serialize();
    }

    [Benchmark(Baseline = true)]
    public void HyperLogLogMerge() => _hllA.Merge(_hllB);

    [Benchmark]
    public long HyperLogLogEstimate() => _hllA.Estimate();

    [Benchmark]
    public byte[] HyperLogLogSerialize() => _hllA.Serialize();

    [Benchmark]
    public int HyperLogLogDeserialize() => HyperLogLogSketch.Deserialize(_hllBytes).Precision;

    [Benchmark]
    public void QuantileMerge() => _quantileA.Merge(_quantileB);

    [Benchmark]
    public double QuantileP99() => _quantileA.GetQuantile(0.99);
}
