using System.Buffers;
using System.Text.Json;
using Analytics.Streaming.Kinesis;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Kinesis;

/// <summary>
/// Producer encode path for 500 records of 100 bytes: PutRecords body, with and without KPL aggregation, against
/// the baseline a .NET user would write (System.Text.Json serializer over strings made with Convert.ToBase64String).
/// Figures are per record (OperationsPerInvoke = 500).
/// </summary>
[Config(typeof(Config))]
public class KinesisEncodeBenchmarks
{
    private const int Records = 500;
    private byte[][] _data = [];
    private string[] _keys = [];
    private PutRecordsEntry[] _entries = [];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private Utf8JsonWriter _writer = null!;
    private KplAggregateBuilder _aggregator = null!;
    private byte[] _aggregateBuffer = [];

    /// <summary>Builds the records.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _data = new byte[Records][];
        _keys = new string[Records];
        _entries = new PutRecordsEntry[Records];
        for (int i = 0; i < Records; i++)
        {
            _data[i] = new byte[100];
            random.NextBytes(_data[i]);
            _keys[i] = "customer-" + (i % 64);
            _entries[i] = new PutRecordsEntry(_data[i], _keys[i]);
        }

        _writer = new Utf8JsonWriter(_output, new JsonWriterOptions { SkipValidation = true });
        _aggregator = new KplAggregateBuilder();
        _aggregateBuffer = new byte[_aggregator.MaxSize];
    }

    /// <summary>Releases the aggregator.</summary>
    [GlobalCleanup]
    public void Cleanup() => _aggregator.Dispose();

    /// <summary>Baseline: JsonSerializer over a model with base64 strings.</summary>
    /// <returns>The body length.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int SerializerWithBase64Strings()
    {
        var model = new NaivePutRecords { StreamName = "orders", Records = new List<NaiveEntry>(Records) };
        for (int i = 0; i < Records; i++)
        {
            model.Records.Add(new NaiveEntry { Data = Convert.ToBase64String(_data[i]), PartitionKey = _keys[i] });
        }

        return JsonSerializer.SerializeToUtf8Bytes(model).Length;
    }

    /// <summary>Our PutRecords body, no aggregation.</summary>
    /// <returns>The body length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public int PutRecordsBody()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        KinesisJsonCodec.WritePutRecords(_writer, "orders", null, _entries);
        _writer.Flush();
        return _output.WrittenCount;
    }

    /// <summary>KPL aggregation of the records (51,200-byte aggregates) and the PutRecords body of the aggregates.</summary>
    /// <returns>The body length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public int AggregatedPutRecordsBody()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        _writer.WriteStartObject();
        _writer.WriteString("StreamName"u8, "orders");
        _writer.WriteStartArray("Records"u8);
        _aggregator.Clear();
        for (int i = 0; i < Records; i++)
        {
            if (!_aggregator.TryAdd(_data[i], _keys[i]))
            {
                WriteAggregate();
                _aggregator.TryAdd(_data[i], _keys[i]);
            }
        }

        WriteAggregate();
        _writer.WriteEndArray();
        _writer.WriteEndObject();
        _writer.Flush();
        return _output.WrittenCount;
    }

    private void WriteAggregate()
    {
        int size = _aggregator.WriteTo(_aggregateBuffer);
        _writer.WriteStartObject();
        _writer.WriteBase64String("Data"u8, _aggregateBuffer.AsSpan(0, size));
        _writer.WriteString("PartitionKey"u8, KplFormat.AggregatePartitionKey);
        _writer.WriteString("ExplicitHashKey"u8, _aggregator.AggregateExplicitHashKey);
        _writer.WriteEndObject();
        _aggregator.Clear();
    }

    /// <summary>The baseline's request model.</summary>
    public sealed class NaivePutRecords
    {
        /// <summary>Gets or sets the stream name.</summary>
        public string StreamName { get; set; } = string.Empty;

        /// <summary>Gets or sets the records.</summary>
        public List<NaiveEntry> Records { get; set; } = [];
    }

    /// <summary>The baseline's record model.</summary>
    public sealed class NaiveEntry
    {
        /// <summary>Gets or sets the base64 data.</summary>
        public string Data { get; set; } = string.Empty;

        /// <summary>Gets or sets the partition key.</summary>
        public string PartitionKey { get; set; } = string.Empty;
    }

    private sealed class Config : BenchmarkDotNet.Configs.ManualConfig
    {
        public Config()
        {
            AddColumn(BenchmarkDotNet.Columns.StatisticColumn.OperationsPerSecond);
        }
    }
}
