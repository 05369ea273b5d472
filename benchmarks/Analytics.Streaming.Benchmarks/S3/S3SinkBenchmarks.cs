using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.S3;

/// <summary>A page view for the sink benchmarks.</summary>
public sealed record SinkClick(DateTimeOffset Time, string Page, string Country, long UserId, double Revenue)
{
    public string Id => $"{UserId}-{Time.ToUnixTimeMilliseconds()}";
}

[JsonSerializable(typeof(SinkClick))]
internal sealed partial class SinkClickJson : JsonSerializerContext;

/// <summary>
/// What the data-lake sink adds on top of the bare Parquet writer: partition routing, rolling, part buffering and
/// the object store calls. Baseline: one <see cref="ParquetWriter{T}"/> writing all rows to one memory stream. The
/// sink variants write the same rows in batches of 500 to a store that consumes the bytes in memory (no network,
/// no disk), with 24 hourly partitions, 24 x 6 partitions (hour and page), and JSON lines for comparison.
/// </summary>
[MemoryDiagnoser]
public class S3SinkBenchmarks
{
    private static readonly string[] Pages = ["home", "search", "product", "cart", "checkout", "account"];
    private static readonly string[] Countries = ["US", "DE", "FR", "GB", "IN", "BR", "JP"];
    private static readonly ParquetRecordMap<SinkClick> Map = ParquetRecordMap.For<SinkClick>()
        .Timestamp("ts", c => c.Time)
        .String("page", c => c.Page, nullable: false)
        .String("country", c => c.Country, nullable: false)
        .Int64("user_id", c => c.UserId)
        .Double("revenue", c => c.Revenue)
        .Build();

    private SinkClick[] _rows = [];
    private MemoryStream _buffer = new();

    [Params(200_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        var start = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
        long step = TimeSpan.FromHours(24).Ticks / Rows;
        _rows = new SinkClick[Rows];
        for (int i = 0; i < Rows; i++)
        {
            _rows[i] = new SinkClick(start.AddTicks(step * i), Pages[random.Next(Pages.Length)], Countries[random.Next(Countries.Length)], random.Next(50_000), Math.Round(random.NextDouble() * 100, 2));
        }

        _buffer = new MemoryStream(64 * 1024 * 1024);
    }

    [Benchmark(Baseline = true)]
    public long BareParquetWriter()
    {
        _buffer.SetLength(0);
        using var writer = new ParquetWriter<SinkClick>(_buffer, Map, new ParquetWriterOptions(), leaveOpen: true);
        writer.Write(_rows);
        writer.Complete();
        return _buffer.Length;
    }

    [Benchmark]
    public Task<long> SinkParquetHourly() => RunSinkAsync(new ParquetObjectFormat<SinkClick>(Map), KeyLayout<SinkClick>.Hive(TimePartitioning.Hour, c => c.Time));

    [Benchmark]
    public Task<long> SinkParquetHourlyByPage() => RunSinkAsync(
        new ParquetObjectFormat<SinkClick>(Map, new ParquetWriterOptions { RowGroupSize = 1024 * 1024 }),
        KeyLayout<SinkClick>.Hive(TimePartitioning.Hour, c => c.Time).PartitionBy("page_group", c => c.Page));

    [Benchmark]
    public Task<long> SinkJsonLinesHourly() => RunSinkAsync(LineFormats.JsonLines(SinkClickJson.Default.SinkClick), KeyLayout<SinkClick>.Hive(TimePartitioning.Hour, c => c.Time));

    private async Task<long> RunSinkAsync(IObjectFormat<SinkClick> format, KeyLayout<SinkClick> layout)
    {
        var store = new ConsumingStore();
        await using var sink = new S3Sink<SinkClick>(new S3SinkOptions<SinkClick>
        {
            Store = store,
            Format = format,
            TableName = "clicks",
            Layout = layout,
            MaxOpenObjects = 200,
        });
        for (int i = 0; i < _rows.Length; i += 500)
        {
            await sink.WriteAsync(_rows.AsMemory(i, Math.Min(500, _rows.Length - i)), CancellationToken.None);
        }

        await sink.FlushAsync(CancellationToken.None);
        return store.Bytes;
    }

    /// <summary>An object store that reads every object to its end and keeps only the byte count.</summary>
    private sealed class ConsumingStore : IObjectStore
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public string GetLocation(string key) => "memory://" + key;

        public bool IsTransient(Exception exception) => false;

        public bool IsValidKey(string key, [NotNullWhen(false)] out string? reason)
        {
            reason = null;
            return true;
        }

        public Task<byte[]?> GetObjectAsync(string key, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);

        public Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

        public Task DeleteObjectAsync(string key, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task AbortMultipartUploadsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
        {
            await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytes, content.Length);
        }

        public Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken)
            => Task.FromResult<IMultipartUpload>(new Upload(this, key));

        private sealed class Upload(ConsumingStore store, string key) : IMultipartUpload
        {
            public string Key => key;

            public async Task UploadPartAsync(int partNumber, Stream content, CancellationToken cancellationToken)
            {
                await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref store._bytes, content.Length);
            }

            public Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;

            public Task AbortAsync(CancellationToken cancellationToken) => Task.CompletedTask;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
