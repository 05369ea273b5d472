using Analytics.Streaming.Parquet;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Parquet.Schema;
using ParquetSharp;
using NetCompression = Parquet.CompressionMethod;
using NetOptions = Parquet.ParquetOptions;
using NetSerializer = Parquet.Serialization.ParquetSerializer;
using NetWriter = Parquet.ParquetWriter;
using OurWriterOptions = Analytics.Streaming.Parquet.ParquetWriterOptions;

namespace Analytics.Streaming.Benchmarks.Parquet;

/// <summary>
/// This library's Parquet writer against Parquet.Net 6.1.0 and ParquetSharp 25.0.1.2 (Apache Arrow's C++ writer behind
/// P/Invoke), in one run: the same 1,000,000 ten-column clickstream records written single-threaded to a
/// <see cref="MemoryStream"/> as one file with one row group, per codec (category). The baseline of each category is
/// this library's writer, so Ratio and Alloc Ratio read "other / ours". Rows/s and the file size each writer
/// produced are extra columns (the size is measured once in the host process by calling the same method).
/// </summary>
/// <remarks>
/// <para>
/// Each library is used the way its documentation shows, with its defaults except the codec (and ZSTD level 1 for all
/// three, our default): Parquet.Net through its column API (arrays per column, its fast path) and through its
/// class serializer (records in, like ours); ParquetSharp through its logical column writers. The column arrays of
/// the column APIs are allocated once and refilled from the records in every operation: the copy is timed, the
/// arrays are not counted as allocation (generous to both). ParquetSharp's native allocations are not seen by the
/// memory diagnoser (managed only).
/// </para>
/// <para>Schemas: microsecond UTC timestamps, UTF-8 strings (referrer nullable), INT64, INT32, DOUBLE.</para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(ParquetComparisonColumns))]
public class ParquetLibraryBenchmarks
{
    private const string Snappy = "SNAPPY";
    private const string Zstd = "ZSTD";

    private ClickEvent[] _events = [];
    private MemoryStream _buffer = new();
    private DateTime[] _times = [];
    private string[] _eventTypes = [];
    private string[] _pages = [];
    private string?[] _referrers = [];
    private long[] _users = [];
    private string[] _sessions = [];
    private string[] _countries = [];
    private string[] _devices = [];
    private int[] _durations = [];
    private double[] _revenues = [];

    private readonly DateTimeDataField _netTime = new("event_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros);
    private readonly DataField<string> _netEventType = new("event_type", nullable: false);
    private readonly DataField<string> _netPage = new("page", nullable: false);
    private readonly DataField<string> _netReferrer = new("referrer", nullable: true);
    private readonly DataField<long> _netUser = new("user_id", nullable: false);
    private readonly DataField<string> _netSession = new("session_id", nullable: false);
    private readonly DataField<string> _netCountry = new("country", nullable: false);
    private readonly DataField<string> _netDevice = new("device", nullable: false);
    private readonly DataField<int> _netDuration = new("duration_ms", nullable: false);
    private readonly DataField<double> _netRevenue = new("revenue", nullable: false);

    /// <summary>Gets or sets the records per file.</summary>
    [Params(1_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = Clickstream.Generate(Rows);
        _buffer = new MemoryStream(128 * 1024 * 1024);
        _times = new DateTime[Rows];
        _eventTypes = new string[Rows];
        _pages = new string[Rows];
        _referrers = new string?[Rows];
        _users = new long[Rows];
        _sessions = new string[Rows];
        _countries = new string[Rows];
        _devices = new string[Rows];
        _durations = new int[Rows];
        _revenues = new double[Rows];
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Snappy)]
    public long OursSnappy() => WriteOurs(ParquetCompression.Snappy);

    [Benchmark]
    [BenchmarkCategory(Snappy)]
    public Task<long> ParquetNetColumnsSnappy() => WriteParquetNetColumnsAsync(NetCompression.Snappy);

    [Benchmark]
    [BenchmarkCategory(Snappy)]
    public Task<long> ParquetNetSerializerSnappy() => WriteParquetNetSerializerAsync(NetCompression.Snappy);

    [Benchmark]
    [BenchmarkCategory(Snappy)]
    public long ParquetSharpSnappy() => WriteParquetSharp(Compression.Snappy);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Zstd)]
    public long OursZstd() => WriteOurs(ParquetCompression.Zstd);

    [Benchmark]
    [BenchmarkCategory(Zstd)]
    public Task<long> ParquetNetColumnsZstd() => WriteParquetNetColumnsAsync(NetCompression.Zstd);

    [Benchmark]
    [BenchmarkCategory(Zstd)]
    public long ParquetSharpZstd() => WriteParquetSharp(Compression.Zstd);

    private long WriteOurs(ParquetCompression codec)
    {
        _buffer.SetLength(0);
        using (var writer = new ParquetWriter<ClickEvent>(_buffer, Clickstream.Map, new OurWriterOptions { Compression = codec }, leaveOpen: true))
        {
            writer.Write(_events);
            writer.Complete();
        }

        return _buffer.Length;
    }

    private async Task<long> WriteParquetNetColumnsAsync(NetCompression codec)
    {
        _buffer.SetLength(0);
        FillColumns();
        var schema = new global::Parquet.Schema.ParquetSchema(_netTime, _netEventType, _netPage, _netReferrer, _netUser, _netSession, _netCountry, _netDevice, _netDuration, _netRevenue);
        var options = new NetOptions { CompressionMethod = codec, CompressionLevel = System.IO.Compression.CompressionLevel.Fastest };
        await using (var writer = await NetWriter.CreateAsync(schema, _buffer, options, append: false))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<DateTime>(_netTime, _times);
            await group.WriteAsync(_netEventType, _eventTypes);
            await group.WriteAsync(_netPage, _pages);
            await group.WriteAsync(_netReferrer, _referrers!);
            await group.WriteAsync<long>(_netUser, _users);
            await group.WriteAsync(_netSession, _sessions);
            await group.WriteAsync(_netCountry, _countries);
            await group.WriteAsync(_netDevice, _devices);
            await group.WriteAsync<int>(_netDuration, _durations);
            await group.WriteAsync<double>(_netRevenue, _revenues);
        }

        return _buffer.Length;
    }

    private async Task<long> WriteParquetNetSerializerAsync(NetCompression codec)
    {
        _buffer.SetLength(0);
        var options = new NetOptions { CompressionMethod = codec, CompressionLevel = System.IO.Compression.CompressionLevel.Fastest };
        await NetSerializer.SerializeAsync(_events, _buffer, options);
        return _buffer.Length;
    }

    private long WriteParquetSharp(Compression codec)
    {
        _buffer.SetLength(0);
        FillColumns();
        var columns = new Column[]
        {
            new Column<DateTime>("event_time", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
            new Column<string>("event_type"),
            new Column<string>("page"),
            new Column<string>("referrer"),
            new Column<long>("user_id"),
            new Column<string>("session_id"),
            new Column<string>("country"),
            new Column<string>("device"),
            new Column<int>("duration_ms"),
            new Column<double>("revenue"),
        };
        using var builder = new WriterPropertiesBuilder().Compression(codec);
        if (codec == Compression.Zstd)
        {
            builder.CompressionLevel(1); // SNAPPY takes no level
        }

        using var properties = builder.Build();
        using (var file = new ParquetFileWriter(_buffer, columns, LogicalTypeFactory.Default, properties, keyValueMetadata: null, leaveOpen: true))
        {
            using (var group = file.AppendRowGroup())
            {
                Write(group, _times);
                Write(group, _eventTypes);
                Write(group, _pages);
                Write(group, _referrers);
                Write(group, _users);
                Write(group, _sessions);
                Write(group, _countries);
                Write(group, _devices);
                Write(group, _durations);
                Write(group, _revenues);
            }

            file.Close();
        }

        return _buffer.Length;

        static void Write<T>(RowGroupWriter group, T[] values)
        {
            using var writer = group.NextColumn().LogicalWriter<T>();
            writer.WriteBatch(values);
        }
    }

    private void FillColumns()
    {
        var events = _events;
        for (int i = 0; i < events.Length; i++)
        {
            var e = events[i];
            _times[i] = e.Timestamp;
            _eventTypes[i] = e.EventType;
            _pages[i] = e.Page;
            _referrers[i] = e.Referrer;
            _users[i] = e.UserId;
            _sessions[i] = e.SessionId;
            _countries[i] = e.Country;
            _devices[i] = e.Device;
            _durations[i] = e.DurationMs;
            _revenues[i] = e.Revenue;
        }
    }
}
