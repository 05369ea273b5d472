using Analytics.Streaming.Parquet;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Parquet;

/// <summary>
/// Writes the 10-column clickstream single-threaded: JSON lines (baseline, the raw format the size target compares
/// with) against this library's Parquet writer per codec. File sizes and the DuckDB comparison are printed by
/// <see cref="Setup"/> (DuckDB's own writer, from npm, timed in the same run on the same rows).
/// </summary>
[MemoryDiagnoser]
public class ParquetWriterBenchmarks
{
    private ClickEvent[] _events = [];
    private MemoryStream _buffer = new();

    [Params(500_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = Clickstream.Generate(Rows);
        _buffer = new MemoryStream(128 * 1024 * 1024);
        ParquetComparison.Run(_events);
    }

    [Benchmark(Baseline = true)]
    public long JsonLines()
    {
        _buffer.SetLength(0);
        Clickstream.WriteJsonLines(_events, _buffer);
        return _buffer.Length;
    }

    [Benchmark]
    public long ParquetSnappy() => WriteParquet(ParquetCompression.Snappy);

    [Benchmark]
    public long ParquetUncompressed() => WriteParquet(ParquetCompression.Uncompressed);

    [Benchmark]
    public long ParquetGzip() => WriteParquet(ParquetCompression.Gzip);

    private long WriteParquet(ParquetCompression codec)
    {
        _buffer.SetLength(0);
        using var writer = new ParquetWriter<ClickEvent>(_buffer, Clickstream.Map, new ParquetWriterOptions { Compression = codec }, leaveOpen: true);
        writer.Write(_events);
        writer.Complete();
        return _buffer.Length;
    }
}
