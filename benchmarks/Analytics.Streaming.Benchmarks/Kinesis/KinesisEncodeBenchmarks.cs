using Analytics.Streaming.Kinesis;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Kinesis;

/// <summary>
/// Producer encode path for 500 records of 100 bytes: one PutRecords call through <see cref="KinesisClient"/> (request
/// body with base64 written straight into a pooled buffer, signing, answer parsing), with and without KPL aggregation,
/// against the baseline a .NET user would write (System.Text.Json's serializer over strings made with
/// Convert.ToBase64String, AWSSDK.Core's signer). The HTTP handler answers from memory. Figures are per record
/// (OperationsPerInvoke = 500).
/// </summary>
[Config(typeof(Config))]
public class KinesisEncodeBenchmarks : IDisposable
{
    private const int Records = 500;
    private byte[][] _data = [];
    private string[] _keys = [];
    private KinesisPutRecordsEntry[] _entries = [];
    private readonly List<KinesisPutRecordsEntry> _aggregates = [];
    private CannedAwsHandler _plainHandler = null!;
    private CannedAwsHandler _aggregatedHandler = null!;
    private KinesisClient _plainClient = null!;
    private KinesisClient _aggregatedClient = null!;
    private NaiveKinesisCaller _naive = null!;
    private KplAggregateBuilder _aggregator = null!;

    /// <summary>Builds the records and the canned answers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _data = new byte[Records][];
        _keys = new string[Records];
        _entries = new KinesisPutRecordsEntry[Records];
        for (int i = 0; i < Records; i++)
        {
            _data[i] = new byte[100];
            random.NextBytes(_data[i]);
            _keys[i] = "customer-" + (i % 64);
            _entries[i] = new KinesisPutRecordsEntry(_data[i], _keys[i]);
        }

        _aggregator = new KplAggregateBuilder();
        int aggregateCount = Aggregate();
        _plainHandler = new CannedAwsHandler(Answer(Records));
        _aggregatedHandler = new CannedAwsHandler(Answer(aggregateCount));
        _plainClient = InMemoryAws.Client(_plainHandler);
        _aggregatedClient = InMemoryAws.Client(_aggregatedHandler);
        _naive = new NaiveKinesisCaller(new CannedAwsHandler(Answer(Records)));
    }

    /// <summary>Releases the clients and the aggregator.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _plainClient.Dispose();
        _aggregatedClient.Dispose();
        _naive.Dispose();
        _aggregator.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Baseline: JsonSerializer over a model with base64 strings, signed and sent.</summary>
    /// <returns>The number of records written.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public async Task<int> SerializerWithBase64Strings()
    {
        var model = new NaivePutRecords { StreamName = "orders", Records = new List<NaiveEntry>(Records) };
        for (int i = 0; i < Records; i++)
        {
            model.Records.Add(new NaiveEntry { Data = Convert.ToBase64String(_data[i]), PartitionKey = _keys[i] });
        }

        var answer = await _naive.CallAsync<NaivePutRecords, NaivePutRecordsAnswer>("PutRecords", model);
        return answer.Records.Count;
    }

    /// <summary>The client's PutRecords, no aggregation.</summary>
    /// <returns>The request body length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> PutRecordsBody()
    {
        await _plainClient.PutRecordsAsync(new KinesisPutRecordsRequest { StreamName = "orders", Records = _entries }, CancellationToken.None);
        return _plainHandler.LastRequestLength;
    }

    /// <summary>KPL aggregation of the records (51,200-byte aggregates) and the client's PutRecords of the aggregates.</summary>
    /// <returns>The request body length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public async Task<long> AggregatedPutRecordsBody()
    {
        Aggregate();
        await _aggregatedClient.PutRecordsAsync(new KinesisPutRecordsRequest { StreamName = "orders", Records = _aggregates }, CancellationToken.None);
        return _aggregatedHandler.LastRequestLength;
    }

    private int Aggregate()
    {
        _aggregates.Clear();
        _aggregator.Clear();
        for (int i = 0; i < Records; i++)
        {
            if (!_aggregator.TryAdd(_data[i], _keys[i]))
            {
                Close();
                _aggregator.TryAdd(_data[i], _keys[i]);
            }
        }

        Close();
        return _aggregates.Count;
    }

    private void Close()
    {
        _aggregates.Add(new KinesisPutRecordsEntry(_aggregator.ToArray(), KplFormat.AggregatePartitionKey, _aggregator.AggregateExplicitHashKey));
        _aggregator.Clear();
    }

    private static byte[] Answer(int count)
    {
        var results = string.Join(',', Enumerable.Range(0, count).Select(i => $$"""{"SequenceNumber":"4959033827149025660855969253836157109592157598913658{{1000 + i}}","ShardId":"shardId-000000000000"}"""));
        return System.Text.Encoding.UTF8.GetBytes($$"""{"FailedRecordCount":0,"Records":[{{results}}]}""");
    }

    /// <summary>The baseline's request model.</summary>
    public sealed class NaivePutRecords
    {
        /// <summary>Gets or sets the stream name.</summary>
        public string StreamName { get; set; } = string.Empty;

        /// <summary>Gets or sets the records.</summary>
        public List<NaiveEntry> Records { get; set; } = [];
    }

    /// <summary>The baseline's answer model.</summary>
    public sealed class NaivePutRecordsAnswer
    {
        /// <summary>Gets or sets the failed count.</summary>
        public int FailedRecordCount { get; set; }

        /// <summary>Gets or sets the results.</summary>
        public List<NaiveResult> Records { get; set; } = [];
    }

    /// <summary>The baseline's result model.</summary>
    public sealed class NaiveResult
    {
        /// <summary>Gets or sets the sequence number.</summary>
        public string? SequenceNumber { get; set; }

        /// <summary>Gets or sets the shard.</summary>
        public string? ShardId { get; set; }
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
