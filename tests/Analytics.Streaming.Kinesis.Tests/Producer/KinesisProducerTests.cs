using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Analytics.Streaming.Kinesis.Tests.Support;

namespace Analytics.Streaming.Kinesis.Tests.Producer;

public sealed class KinesisProducerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Success(JsonElement request)
    {
        int count = request.GetProperty("Records").GetArrayLength();
        var results = string.Join(',', Enumerable.Range(0, count).Select(i => $$"""{"SequenceNumber":"{{i + 1}}","ShardId":"shardId-000000000000"}"""));
        return $$"""{"FailedRecordCount":0,"Records":[{{results}}]}""";
    }

    /// <summary>Answers success with the shard the service would pick: hash key at or below <paramref name="half"/> goes to shard 0.</summary>
    private static string RoutedSuccess(JsonElement request, UInt128 half)
    {
        var results = request.GetProperty("Records").EnumerateArray().Select((record, i) =>
        {
            string? ehk = record.TryGetProperty("ExplicitHashKey", out var e) ? e.GetString() : null;
            var hash = KinesisHashKey.Of(record.GetProperty("PartitionKey").GetString()!, ehk);
            return $$"""{"SequenceNumber":"{{i + 1}}","ShardId":"shardId-00000000000{{(hash <= half ? 0 : 1)}}"}""";
        });
        return $$"""{"FailedRecordCount":0,"Records":[{{string.Join(',', results)}}]}""";
    }

    private static KinesisProducerOptions Options(Action<KinesisProducerOptions>? configure = null)
    {
        var options = new KinesisProducerOptions
        {
            StreamName = "orders",
            Linger = TimeSpan.FromSeconds(30),
            Retry = { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        };
        configure?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task FlushAsync_1200Records_SendsBatchesOfAtMost500WithEveryRecordOnce()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Success(r.Json)));
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options());

        for (int i = 0; i < 1200; i++)
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes($"record-{i}"), $"key-{i % 7}", cancellationToken: Ct);
        }

        await producer.FlushAsync(Ct);

        var puts = server.Requests.Where(r => r.Operation == "PutRecords").ToList();
        Assert.All(puts, p => Assert.InRange(p.Json.GetProperty("Records").GetArrayLength(), 1, 500));
        Assert.Equal(3, puts.Count);
        var sent = puts.SelectMany(p => p.Json.GetProperty("Records").EnumerateArray())
            .Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(Enumerable.Range(0, 1200).Select(i => $"record-{i}").Order(StringComparer.Ordinal), sent);
        Assert.Equal(1200, producer.Statistics.Records);
        Assert.Equal(3, producer.Statistics.Batches);
    }

    [Fact]
    public async Task FlushAsync_PartialFailure_ResendsOnlyTheFailedRecords()
    {
        var failedOnce = new ConcurrentDictionary<string, bool>();
        await using var server = new LoopbackAwsServer(r =>
        {
            var records = r.Json.GetProperty("Records").EnumerateArray().ToList();
            var results = records.Select((record, i) =>
            {
                string data = Encoding.UTF8.GetString(record.GetProperty("Data").GetBytesFromBase64());
                bool fail = data.StartsWith("odd", StringComparison.Ordinal) && failedOnce.TryAdd(data, true);
                return fail
                    ? """{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded"}"""
                    : $$"""{"SequenceNumber":"{{i}}","ShardId":"shardId-000000000000"}""";
            });
            return LoopbackResponse.Ok($$"""{"FailedRecordCount":1,"Records":[{{string.Join(',', results)}}]}""");
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o => o.MaxConcurrentRequests = 1));

        for (int i = 0; i < 10; i++)
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes((i % 2 == 1 ? "odd-" : "even-") + i), "k", cancellationToken: Ct);
        }

        await producer.FlushAsync(Ct);

        var puts = server.Requests.ToList();
        Assert.Equal(2, puts.Count);
        var resent = puts[1].Json.GetProperty("Records").EnumerateArray()
            .Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())).ToList();
        Assert.Equal(["odd-1", "odd-3", "odd-5", "odd-7", "odd-9"], resent.Order(StringComparer.Ordinal));
        Assert.Equal(5, producer.Statistics.Retries);
        Assert.Equal(5, producer.Statistics.Throttles);
        Assert.Equal(10, producer.Statistics.Records);
    }

    [Fact]
    public async Task FlushAsync_RecordFailingEveryAttempt_ThrowsWithTheRecord()
    {
        await using var server = new LoopbackAwsServer(r =>
        {
            var results = r.Json.GetProperty("Records").EnumerateArray().Select(record =>
                record.GetProperty("PartitionKey").GetString() == "bad"
                    ? """{"ErrorCode":"InternalFailure","ErrorMessage":"Internal Service Failure"}"""
                    : """{"SequenceNumber":"1","ShardId":"shardId-000000000000"}""");
            return LoopbackResponse.Ok($$"""{"FailedRecordCount":1,"Records":[{{string.Join(',', results)}}]}""");
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o => o.Retry.MaxAttempts = 3));

        await producer.AddAsync("good"u8.ToArray(), "good", cancellationToken: Ct);
        await producer.AddAsync("doomed"u8.ToArray(), "bad", cancellationToken: Ct);

        var exception = await Assert.ThrowsAsync<KinesisProducerException>(() => producer.FlushAsync(Ct));

        var failure = Assert.Single(exception.Failures);
        Assert.Equal("bad", failure.PartitionKey);
        Assert.Equal("doomed", Encoding.UTF8.GetString(failure.Data.Span));
        Assert.Equal(KinesisErrors.InternalFailure, failure.ErrorCode);
        Assert.Equal(3, failure.Attempts);
        Assert.Equal(1, producer.Statistics.Records);
        await producer.FlushAsync(Ct); // failures are reported once
    }

    [Fact]
    public async Task AddAsync_RecordOverSizeLimit_IsRefusedBeforeSending()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Success(r.Json)));
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o => o.MaxRecordSize = 1000));

        var tooBig = await Assert.ThrowsAsync<ArgumentException>(() => producer.AddAsync(new byte[999], "ab", cancellationToken: Ct).AsTask());
        Assert.Contains("1001 bytes", tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRecordSize", tooBig.Message, StringComparison.Ordinal);
        var longKey = Assert.Throws<ArgumentException>(() => producer.TryAdd([], new string('k', 257)));
        Assert.Contains("256", longKey.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => producer.TryAdd([], string.Empty));
        Assert.Throws<ArgumentException>(() => producer.TryAdd([], "k", "not-a-number"));

        await producer.FlushAsync(Ct);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task FlushAsync_AggregationEnabled_PacksRecordsPerShardAndConsumersUnpackThem()
    {
        var half = UInt128.MaxValue / 2;
        await using var server = new LoopbackAwsServer(r => r.Operation switch
        {
            "ListShards" => LoopbackResponse.Ok($$$"""
                {"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"{{{half}}}"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}},
                           {"ShardId":"shardId-000000000001","HashKeyRange":{"StartingHashKey":"{{{half + 1}}}","EndingHashKey":"{{{UInt128.MaxValue}}}"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}
                """),
            _ => LoopbackResponse.Ok(RoutedSuccess(r.Json, half)),
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o =>
        {
            o.AggregationEnabled = true;
            o.AggregationMaxSize = 4096;
        }));

        for (int i = 0; i < 500; i++)
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes($"payload-{i}"), $"user-{i % 37}", i % 50 == 0 ? "1" : null, Ct);
        }

        await producer.FlushAsync(Ct);

        var entries = server.Requests.Where(r => r.Operation == "PutRecords")
            .SelectMany(p => p.Json.GetProperty("Records").EnumerateArray()).ToList();
        Assert.True(entries.Count < 100, $"{entries.Count} Kinesis records for 500 user records");
        var users = new List<UserRecord>();
        foreach (var entry in entries)
        {
            byte[] data = entry.GetProperty("Data").GetBytesFromBase64();
            Assert.True(data.Length <= 4096);
            string key = entry.GetProperty("PartitionKey").GetString()!;
            var unpacked = new List<UserRecord>();
            Assert.True(KplDeaggregator.TryDeaggregate(data, key, SequenceNumber.Zero, null, unpacked, out string? error), error);
            if (unpacked.Count > 1)
            {
                Assert.Equal(KplFormat.AggregatePartitionKey, key);
                var outer = KinesisHashKey.Parse(entry.GetProperty("ExplicitHashKey").GetString()!);
                Assert.All(unpacked, u => Assert.Equal(outer <= half, u.GetHashKey() <= half));
            }

            users.AddRange(unpacked);
        }

        Assert.Equal(500, users.Count);
        Assert.Equal(
            Enumerable.Range(0, 500).Select(i => $"payload-{i}").Order(StringComparer.Ordinal),
            users.Select(u => Encoding.UTF8.GetString(u.Data.Span)).Order(StringComparer.Ordinal));
        Assert.Equal(10, users.Count(u => u.ExplicitHashKey == "1"));
        Assert.Equal(500, producer.Statistics.Records);
    }

    [Fact]
    public async Task FlushAsync_CustomClientWhoseListShardsThrowsItsOwnException_SendsUnaggregated()
    {
        // An adapter over another SDK throws that SDK's exceptions: the producer must go on without aggregation.
        var client = new ScriptedKinesisClient
        {
            ListShards = _ => throw new InvalidOperationException("AmazonKinesisException: not authorized to ListShards"),
            PutRecords = (request, _) => ScriptedKinesisClient.Answer(request, _ => false),
        };
        await using var producer = new KinesisProducer(client, Options(o => o.AggregationEnabled = true));

        for (int i = 0; i < 10; i++)
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes($"r{i}"), $"key-{i}", cancellationToken: Ct);
        }

        await producer.FlushAsync(Ct);

        Assert.Equal(10, producer.Statistics.Records);
        Assert.Equal(10, client.PutRecordsCalls.Sum(c => c.Records.Count));
    }

    [Fact]
    public async Task AddAsync_BufferFullOfOpenAggregates_SendsThemWithoutWaitingForLinger()
    {
        // Small records over two shards all sit in open aggregates: with the buffer full, they must be closed and
        // sent, or every add waits out the linger (ten minutes here).
        var half = UInt128.MaxValue / 2;
        await using var server = new LoopbackAwsServer(r => r.Operation switch
        {
            "ListShards" => LoopbackResponse.Ok(TwoShards(half, 1)),
            _ => LoopbackResponse.Ok(RoutedSuccess(r.Json, half)),
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o =>
        {
            o.AggregationEnabled = true;
            o.MaxBufferedRecords = 10;
            o.Linger = TimeSpan.FromMinutes(10);
        }));

        var adds = Task.Run(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await producer.AddAsync(Encoding.UTF8.GetBytes($"r{i}"), $"key-{i}", cancellationToken: Ct);
            }
        }, Ct);

        await adds.WaitAsync(TimeSpan.FromMinutes(2), Ct);
        Assert.True(producer.Statistics.Records >= 90, $"{producer.Statistics.Records} records written");
    }

    [Fact]
    public async Task FlushAsync_AggregateLandsOnUnexpectedShard_ReloadsShardMapAndResendsItsRecords()
    {
        var half = UInt128.MaxValue / 2;
        int listings = 0;
        await using var server = new LoopbackAwsServer(r => r.Operation switch
        {
            "ListShards" => LoopbackResponse.Ok(TwoShards(half, Interlocked.Increment(ref listings))),
            _ => LoopbackResponse.Ok(Success(r.Json)), // every record "lands" on shard 0, as after a stale map
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o => o.AggregationEnabled = true));
        string[] keys = Enumerable.Range(0, 200).Select(i => "user-" + i).ToArray();
        int upper = keys.Count(k => KinesisHashKey.FromPartitionKey(k) > half);

        foreach (string key in keys)
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes(key), key, cancellationToken: Ct);
        }

        await producer.FlushAsync(Ct);

        var users = server.Requests.Where(r => r.Operation == "PutRecords")
            .SelectMany(p => p.Json.GetProperty("Records").EnumerateArray())
            .SelectMany(e =>
            {
                var unpacked = new List<UserRecord>();
                Assert.True(KplDeaggregator.TryDeaggregate(e.GetProperty("Data").GetBytesFromBase64(), e.GetProperty("PartitionKey").GetString()!, SequenceNumber.Zero, null, unpacked, out _));
                return unpacked;
            })
            .ToList();
        Assert.Equal(keys.Length + (2 * upper), users.Count); // shard-1 records: the first copy and two resends
        Assert.True(listings >= 2, "the shard map is reloaded after a misrouted aggregate");
        Assert.Equal(keys.Length, producer.Statistics.Records);
    }

    private static string TwoShards(UInt128 half, int _) => $$$"""
        {"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"{{{half}}}"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}},
                   {"ShardId":"shardId-000000000001","HashKeyRange":{"StartingHashKey":"{{{half + 1}}}","EndingHashKey":"{{{UInt128.MaxValue}}}"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}
        """;

    [Fact]
    public async Task TryAdd_SenderBlocked_BufferFillsAndPushesBack()
    {
        using var gate = new ManualResetEventSlim(false);
        await using var server = new LoopbackAwsServer(r =>
        {
            gate.Wait(TimeSpan.FromSeconds(30));
            return LoopbackResponse.Ok(Success(r.Json));
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, Options(o =>
        {
            o.MaxBufferedRecords = 2;
            o.MaxBatchRecords = 1;
            o.MaxConcurrentRequests = 1;
            o.Linger = TimeSpan.Zero;
        }));

        int accepted = 0;
        bool refused = false;
        for (int i = 0; i < 200 && !refused; i++)
        {
            if (producer.TryAdd("x"u8, "k"))
            {
                accepted++;
            }
            else
            {
                refused = true;
            }

            await Task.Delay(5, Ct);
        }

        Assert.True(refused);
        Assert.InRange(accepted, 2, 10);
        gate.Set();
        await producer.FlushAsync(Ct);
        Assert.Equal(accepted, producer.Statistics.Records);
    }

    [Fact]
    public async Task DisposeAsync_BufferedRecords_AreSentBeforeItReturns()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Success(r.Json)));
        using var client = new KinesisClient(server.ClientOptions());
        var producer = new KinesisProducer(client, Options());
        for (int i = 0; i < 42; i++)
        {
            await producer.AddAsync("x"u8.ToArray(), "k" + i, cancellationToken: Ct);
        }

        await producer.DisposeAsync();

        Assert.Equal(42, server.Requests.Sum(r => r.Json.GetProperty("Records").GetArrayLength()));
        Assert.Throws<ObjectDisposedException>(() => producer.TryAdd("x"u8, "k"));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsWithTheSettingName()
    {
        using var client = new KinesisClient(new KinesisClientOptions { Region = "us-east-1", ServiceUrl = new Uri("http://127.0.0.1:1"), Credentials = new Amazon.Runtime.BasicAWSCredentials("a", "b") });
        var exception = Assert.Throws<ArgumentException>(() => new KinesisProducer(client, Options(o => o.MaxBatchRecords = 501)));
        Assert.Contains("MaxBatchRecords", exception.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new KinesisProducer(client, new KinesisProducerOptions()));
    }
}
