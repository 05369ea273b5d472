using System.Text;
using System.Text.Json;
using Analytics.Streaming.Kinesis;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Kinesis;

/// <summary>
/// Consumer decode path for 500 user records of 100 bytes: GetRecords body, base64 and KPL deaggregation, plain and
/// aggregated (5 Kinesis records of 100 user records), against the baseline a .NET user would write
/// (JsonSerializer into a model, then Convert.FromBase64String). Figures are per user record (OperationsPerInvoke = 500).
/// </summary>
[Config(typeof(Config))]
public class KinesisDecodeBenchmarks
{
    private const int Records = 500;
    private byte[] _plainBody = [];
    private byte[] _aggregatedBody = [];
    private readonly List<UserRecord> _users = new(Records);

    /// <summary>Builds the GetRecords bodies.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2);
        byte[][] data = new byte[Records][];
        for (int i = 0; i < Records; i++)
        {
            data[i] = new byte[100];
            random.NextBytes(data[i]);
        }

        _plainBody = Body(Enumerable.Range(0, Records).Select(i => (data[i], "customer-" + (i % 64))).ToList());
        var aggregates = new List<(byte[], string)>();
        using var builder = new KplAggregateBuilder(1_000_000);
        for (int a = 0; a < 5; a++)
        {
            builder.Clear();
            for (int i = 0; i < 100; i++)
            {
                builder.TryAdd(data[a * 100 + i], "customer-" + (i % 64));
            }

            aggregates.Add((builder.ToArray(), "a"));
        }

        _aggregatedBody = Body(aggregates);
    }

    /// <summary>Baseline: JsonSerializer into a model and Convert.FromBase64String per record (no deaggregation).</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int SerializerWithBase64Strings()
    {
        var response = JsonSerializer.Deserialize<NaiveGetRecords>(_plainBody)!;
        int total = 0;
        foreach (var record in response.Records)
        {
            total += Convert.FromBase64String(record.Data).Length;
        }

        return total;
    }

    /// <summary>Our parser and deaggregator over plain records.</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public int ParseAndDeaggregatePlain() => Decode(_plainBody);

    /// <summary>Our parser and deaggregator over KPL aggregates (MD5 verified).</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public int ParseAndDeaggregateAggregated() => Decode(_aggregatedBody);

    private int Decode(byte[] body)
    {
        var response = KinesisJsonCodec.ParseGetRecords(body);
        _users.Clear();
        foreach (var record in response.Records)
        {
            if (!KplDeaggregator.TryDeaggregate(record, _users, out string? error))
            {
                throw new InvalidOperationException(error);
            }
        }

        int total = 0;
        foreach (var user in _users)
        {
            total += user.Data.Length;
        }

        return total;
    }

    private static byte[] Body(List<(byte[] Data, string Key)> records)
    {
        var builder = new StringBuilder("{\"Records\":[");
        for (int i = 0; i < records.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append("{\"SequenceNumber\":\"4959033827149025660855969253836157109592157598913658")
                .Append((1000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append("\",\"ApproximateArrivalTimestamp\":1.441215410867E9,\"Data\":\"")
                .Append(Convert.ToBase64String(records[i].Data))
                .Append("\",\"PartitionKey\":\"").Append(records[i].Key).Append("\",\"EncryptionType\":\"NONE\"}");
        }

        builder.Append("],\"NextShardIterator\":\"AAAAAAAAAAG\",\"MillisBehindLatest\":0}");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>The baseline's response model.</summary>
    public sealed class NaiveGetRecords
    {
        /// <summary>Gets or sets the records.</summary>
        public List<NaiveRecord> Records { get; set; } = [];

        /// <summary>Gets or sets the next iterator.</summary>
        public string? NextShardIterator { get; set; }

        /// <summary>Gets or sets the lag.</summary>
        public long MillisBehindLatest { get; set; }
    }

    /// <summary>The baseline's record model.</summary>
    public sealed class NaiveRecord
    {
        /// <summary>Gets or sets the sequence number.</summary>
        public string SequenceNumber { get; set; } = string.Empty;

        /// <summary>Gets or sets the arrival time.</summary>
        public double ApproximateArrivalTimestamp { get; set; }

        /// <summary>Gets or sets the base64 data.</summary>
        public string Data { get; set; } = string.Empty;

        /// <summary>Gets or sets the partition key.</summary>
        public string PartitionKey { get; set; } = string.Empty;

        /// <summary>Gets or sets the encryption type.</summary>
        public string? EncryptionType { get; set; }
    }

    private sealed class Config : BenchmarkDotNet.Configs.ManualConfig
    {
        public Config()
        {
            AddColumn(BenchmarkDotNet.Columns.StatisticColumn.OperationsPerSecond);
        }
    }
}
