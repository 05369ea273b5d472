using System.Text;
using Analytics.Streaming.Kinesis;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Kinesis;

/// <summary>
/// Consumer decode path for 500 user records of 100 bytes: one GetRecords call through <see cref="KinesisClient"/>
/// (signing, answer parsing, base64) and KPL deaggregation, plain and aggregated (5 Kinesis records of 100 user
/// records), against the baseline a .NET user would write (AWSSDK.Core's signer, JsonSerializer into a model, then
/// Convert.FromBase64String). The HTTP handler answers from memory. Figures are per user record (OperationsPerInvoke = 500).
/// </summary>
[Config(typeof(Config))]
public class KinesisDecodeBenchmarks : IDisposable
{
    private const int Records = 500;
    private readonly List<UserRecord> _users = new(Records);
    private readonly KinesisGetRecordsRequest _request = new() { ShardIterator = "AAAAAAAAAAG", Limit = Records };
    private KinesisClient _plainClient = null!;
    private KinesisClient _aggregatedClient = null!;
    private NaiveKinesisCaller _naive = null!;

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

        byte[] plainBody = Body(Enumerable.Range(0, Records).Select(i => (data[i], "customer-" + (i % 64))).ToList());
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

        _plainClient = InMemoryAws.Client(new CannedAwsHandler(plainBody));
        _aggregatedClient = InMemoryAws.Client(new CannedAwsHandler(Body(aggregates)));
        _naive = new NaiveKinesisCaller(new CannedAwsHandler(plainBody));
    }

    /// <summary>Releases the clients.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _plainClient.Dispose();
        _aggregatedClient.Dispose();
        _naive.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Baseline: a signed call, JsonSerializer into a model and Convert.FromBase64String per record (no deaggregation).</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public async Task<int> SerializerWithBase64Strings()
    {
        var response = await _naive.CallAsync<NaiveGetRecordsRequest, NaiveGetRecords>("GetRecords", new NaiveGetRecordsRequest { ShardIterator = _request.ShardIterator, Limit = Records });
        int total = 0;
        foreach (var record in response.Records)
        {
            total += Convert.FromBase64String(record.Data).Length;
        }

        return total;
    }

    /// <summary>The client and the deaggregator over plain records.</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public Task<int> ParseAndDeaggregatePlain() => DecodeAsync(_plainClient);

    /// <summary>The client and the deaggregator over KPL aggregates (MD5 verified).</summary>
    /// <returns>The total data length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public Task<int> ParseAndDeaggregateAggregated() => DecodeAsync(_aggregatedClient);

    private async Task<int> DecodeAsync(KinesisClient client)
    {
        var response = await client.GetRecordsAsync(_request, CancellationToken.None);
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

    /// <summary>The baseline's request model.</summary>
    public sealed class NaiveGetRecordsRequest
    {
        /// <summary>Gets or sets the iterator.</summary>
        public string ShardIterator { get; set; } = string.Empty;

        /// <summary>Gets or sets the most records.</summary>
        public int Limit { get; set; }
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
