using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Amazon.S3;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using Analytics.Streaming.Scoring;
using Spectre.Console;

namespace Analytics.Streaming.Samples.DataLake;

/// <summary>Settings of the sample, from the command line.</summary>
/// <param name="WorkFolder">Where the CSV files, the local lake and the Athena DDL go.</param>
/// <param name="Rows">Rows per generated file.</param>
/// <param name="Generate">Whether to (re)write the CSV files; otherwise existing ones are read.</param>
/// <param name="RowsPerSecond">The replay rate per file; 0 for as fast as possible.</param>
/// <param name="ObjectRows">Rows per lake object before compaction (small on purpose, as a streaming sink leaves them).</param>
/// <param name="Bucket">An S3 bucket for the lake instead of the local folder; <see langword="null"/> for the folder.</param>
/// <param name="S3ServiceUrl">An S3-compatible endpoint (for example s3rver); <see langword="null"/> for AWS.</param>
/// <param name="ShowProgress">Whether to draw progress bars (only on an interactive console).</param>
/// <param name="Compact">Whether to run the compaction job at the end.</param>
/// <param name="S3Client">The client for <paramref name="Bucket"/>; <see langword="null"/> for one on the default credential chain.</param>
/// <param name="KinesisStreamPrefix">When set, rows go through the Kinesis streams <c>{prefix}sensor-readings</c> and <c>{prefix}customer-purchases</c> (which must exist) instead of straight to the consumers.</param>
/// <param name="KinesisEndpoint">A Kinesis-compatible endpoint (for example kinesalite); <see langword="null"/> for AWS.</param>
/// <param name="Region">The AWS region of the Kinesis client.</param>
/// <param name="KinesisClient">The Kinesis client; <see langword="null"/> for one on the default credential chain.</param>
public sealed record DataLakeOptions(
    string WorkFolder,
    int Rows = 100_000,
    bool Generate = true,
    int RowsPerSecond = 0,
    int ObjectRows = 2_000,
    string? Bucket = null,
    string? S3ServiceUrl = null,
    bool ShowProgress = false,
    bool Compact = true,
    IAmazonS3? S3Client = null,
    string? KinesisStreamPrefix = null,
    string? KinesisEndpoint = null,
    string Region = "us-east-1",
    IKinesisClient? KinesisClient = null)
{
    /// <summary>Parses the command line (see the README).</summary>
    public static DataLakeOptions Parse(string[] args)
    {
        var options = new DataLakeOptions(Path.Combine(Environment.CurrentDirectory, "datalake-run"), ShowProgress: true);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--work" => options with { WorkFolder = Path.GetFullPath(Value()) },
                "--rows" => options with { Rows = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--rate" => options with { RowsPerSecond = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--object-rows" => options with { ObjectRows = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--bucket" => options with { Bucket = Value() },
                "--s3-endpoint" => options with { S3ServiceUrl = Value() },
                "--no-generate" => options with { Generate = false },
                "--no-progress" => options with { ShowProgress = false },
                "--no-compaction" => options with { Compact = false },
                "--kinesis-stream-prefix" => options with { KinesisStreamPrefix = Value() },
                "--kinesis-endpoint" => options with { KinesisEndpoint = Value() },
                "--region" => options with { Region = Value() },
                _ => throw new ArgumentException($"Unknown option {args[i]}. Options: --work <dir> --rows <n> --rate <rows/s, 0 = max> --object-rows <n> --bucket <name> --s3-endpoint <url> --no-generate --no-progress --no-compaction --kinesis-stream-prefix <prefix> --kinesis-endpoint <url> --region <region>."),
            };
        }

        return options;
    }
}

/// <summary>What a run did.</summary>
/// <param name="SensorRows">Sensor rows read (good and bad).</param>
/// <param name="PurchaseRows">Purchase rows read (good and bad).</param>
/// <param name="Rejected">Bad rows, with file and line number.</param>
/// <param name="MachineHours">Machine-hour windows.</param>
/// <param name="Alerts">Machine-hours whose highest maintenance priority is in the high band or above.</param>
/// <param name="Customers">Customers.</param>
/// <param name="HighValueCustomers">Customers in the top 8% by value.</param>
/// <param name="HighValueShare">The top 8%'s share of revenue.</param>
/// <param name="Days">Days of the cross-domain summary.</param>
/// <param name="CsvBytes">Bytes of the two CSV files.</param>
/// <param name="RawParquetBytes">Bytes of the raw zone (the same rows as Parquet), after compaction.</param>
/// <param name="ObjectsBeforeCompaction">Lake objects before compaction.</param>
/// <param name="ObjectsAfterCompaction">Lake objects after compaction.</param>
/// <param name="LakePrefix">The lake's key prefix in the store.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record DataLakeResult(
    long SensorRows,
    long PurchaseRows,
    IReadOnlyList<RejectedRow> Rejected,
    long MachineHours,
    long Alerts,
    long Customers,
    long HighValueCustomers,
    double HighValueShare,
    long Days,
    long CsvBytes,
    long RawParquetBytes,
    long ObjectsBeforeCompaction,
    long ObjectsAfterCompaction,
    string LakePrefix,
    TimeSpan Elapsed);

/// <summary>
/// Wires the sample: generated CSV files are replayed into in-process streams; consumers score machines (maintenance
/// priority) and customers (value) with the Scoring package; core pipelines window the scored readings per machine-hour
/// (alerts) and per day (the cross-domain summary); everything lands in a raw / processed / analytics lake as Hive
/// partitioned Parquet, whose small objects the compaction job then merges.
/// </summary>
public static class DataLakeApp
{
    /// <summary>The lake's key prefix.</summary>
    public const string LakePrefix = "lake/";

    /// <summary>The share of customers in the high-value segment.</summary>
    public const double HighValueFraction = 0.08;

    private static readonly ParquetWriterOptions Parquet = new() { Compression = ParquetCompression.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.Optimal, RowGroupSize = 16 * 1024 * 1024, EnableDeltaEncoding = true };

    // Compaction runs off the stream's path (the seed's Glue ETL role), so it can afford ZSTD's smallest size (level 19).
    private static readonly ParquetWriterOptions CompactedParquet = new() { Compression = ParquetCompression.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.SmallestSize, RowGroupSize = 16 * 1024 * 1024, EnableDeltaEncoding = true };

    /// <summary>Gets the sensor file's path in a work folder.</summary>
    public static string SensorFile(string workFolder) => Path.Combine(workFolder, "input", "sensor_readings.csv");

    /// <summary>Gets the purchase file's path in a work folder.</summary>
    public static string PurchaseFile(string workFolder) => Path.Combine(workFolder, "input", "customer_purchases.csv");

    /// <summary>Runs the sample once over the two files.</summary>
    public static async Task<DataLakeResult> RunAsync(DataLakeOptions options, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        Directory.CreateDirectory(Path.Combine(options.WorkFolder, "input"));
        string sensorPath = SensorFile(options.WorkFolder);
        string purchasePath = PurchaseFile(options.WorkFolder);
        if (options.Generate || !File.Exists(sensorPath) || !File.Exists(purchasePath))
        {
            output.WriteLine($"Generating {options.Rows:N0} rows per data set in {Path.GetDirectoryName(sensorPath)}");
            CsvGenerator.WriteSensorReadings(sensorPath, options.Rows);
            CsvGenerator.WritePurchases(purchasePath, options.Rows);
        }

        using var ownClient = options.Bucket is null || options.S3Client is not null ? null : new AmazonS3Client(new AmazonS3Config { ServiceURL = options.S3ServiceUrl, ForcePathStyle = options.S3ServiceUrl is not null });
        IObjectStore store = options.Bucket is null ? new LocalFolderObjectStore(Path.Combine(options.WorkFolder, "lake")) : new S3ObjectStore(options.S3Client ?? ownClient!, options.Bucket);
        if (options.Bucket is null)
        {
            // A fresh local lake per run, so the summary describes this run only.
            string lake = Path.Combine(options.WorkFolder, "lake");
            if (Directory.Exists(lake))
            {
                Directory.Delete(lake, recursive: true);
            }
        }

        output.WriteLine($"Lake: {store.GetLocation(LakePrefix)}");
        using var ownKinesis = options.KinesisStreamPrefix is null || options.KinesisClient is not null ? null
            : new KinesisClient(new KinesisClientOptions { Region = options.Region, ServiceUrl = options.KinesisEndpoint is null ? null : new Uri(options.KinesisEndpoint) });
        IKinesisClient? kinesis = options.KinesisStreamPrefix is null ? null : options.KinesisClient ?? ownKinesis;
        output.WriteLine(kinesis is null ? "Streams: in-process" : $"Streams: Kinesis {options.KinesisStreamPrefix}sensor-readings and {options.KinesisStreamPrefix}customer-purchases");

        // Sinks: raw (the rows as read), processed (scored readings), analytics (windows, customers, summary).
        await using var rawSensors = Sink(store, options, DataLakeZone.Raw, "sensor_readings", r => r.Timestamp, RawZone.Sensors);
        await using var rawPurchases = Sink(store, options, DataLakeZone.Raw, "customer_purchases", p => p.Timestamp, RawZone.Purchases);
        await using var scoredSink = Sink<ScoredReading>(store, options, DataLakeZone.Processed, "machine_priority", r => r.Timestamp);
        await using var hoursSink = Sink<MachineHour>(store, options, DataLakeZone.Analytics, "machine_hours", h => h.HourStart);
        await using var customersSink = Sink<CustomerValueRow>(store, options, DataLakeZone.Analytics, "customer_value", null);
        await using var summarySink = Sink<DailySummary>(store, options, DataLakeZone.Analytics, "daily_summary", null);

        // The in-process streams: the simulator writes, the consumers read.
        var sensorStream = Channel.CreateBounded<SensorReading>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        var purchaseStream = Channel.CreateBounded<Purchase>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        var scoredStream = Channel.CreateBounded<ScoredReading>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        var purchasesForPipelines = Channel.CreateBounded<Purchase>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });

        var machineHours = new List<MachineHour>();
        var sensorDays = new Dictionary<DateTimeOffset, (long Count, double AveragePriority, long High)>();
        var purchaseDays = new Dictionary<DateTimeOffset, (long Count, double Revenue)>();
        double high = new MaintenancePriorityOptions().HighThreshold;

        var hourly = StreamPipeline.Create<ScoredReading>(new() { Name = "machine-hours", TimeProvider = time })
            .WithEventTime(r => r.Timestamp, maxOutOfOrderness: TimeSpan.FromMinutes(1))
            .KeyBy(r => r.MachineId)
            .Window(WindowSpec.Tumbling(TimeSpan.FromHours(1)))
            .Aggregate(a => a.Count().And(a.Max(r => r.Priority)).And(a.Average(r => r.Temperature)))
            .To(Sinks.Callback<WindowResult<string, (long, double, double)>>((results, _) =>
            {
                foreach (var r in results.Span)
                {
                    machineHours.Add(new MachineHour(r.Key, r.Window.Start, r.Value.Item1, r.Value.Item2, Math.Round(r.Value.Item3, 3)));
                }

                return ValueTask.CompletedTask;
            }))
            .Build();
        var sensorDaily = StreamPipeline.Create<ScoredReading>(new() { Name = "sensor-days", TimeProvider = time })
            .WithEventTime(r => r.Timestamp, maxOutOfOrderness: TimeSpan.FromMinutes(1))
            .Window(WindowSpec.Tumbling(TimeSpan.FromDays(1)))
            .Aggregate(a => a.Count().And(a.Average(r => r.Priority)).And(a.Sum(r => r.Priority >= high ? 1L : 0L)))
            .To(Sinks.Callback<WindowResult<GlobalKey, (long, double, long)>>((results, _) =>
            {
                foreach (var r in results.Span)
                {
                    sensorDays[r.Window.Start] = r.Value;
                }

                return ValueTask.CompletedTask;
            }))
            .Build();
        var purchaseDaily = StreamPipeline.Create<Purchase>(new() { Name = "purchase-days", TimeProvider = time })
            .WithEventTime(p => p.Timestamp, maxOutOfOrderness: TimeSpan.FromMinutes(1))
            .Window(WindowSpec.Tumbling(TimeSpan.FromDays(1)))
            .Aggregate(a => a.Count().And(a.Sum(p => p.PurchaseAmount)))
            .To(Sinks.Callback<WindowResult<GlobalKey, (long, double)>>((results, _) =>
            {
                foreach (var r in results.Span)
                {
                    purchaseDays[r.Window.Start] = r.Value;
                }

                return ValueTask.CompletedTask;
            }))
            .Build();

        var rejected = new List<RejectedRow>();
        var sensorRejected = new List<RejectedRow>();
        var customers = new Dictionary<string, CustomerState>(StringComparer.Ordinal);
        long sensorRows = 0, purchaseRows = 0;
        var ingest = async (Action<long>? sensorProgress, Action<long>? purchaseProgress) =>
        {
            var sensorReplay = Task.Run(() => CsvReplayer.ReplayAsync(sensorPath, RowParsers.TryParseSensor, sensorStream.Writer, options.RowsPerSecond, sensorRejected, sensorProgress, time, cancellationToken), cancellationToken);
            var purchaseReplay = Task.Run(() => CsvReplayer.ReplayAsync(purchasePath, RowParsers.TryParsePurchase, purchaseStream.Writer, options.RowsPerSecond, rejected, purchaseProgress, time, cancellationToken), cancellationToken);
            var sensorInput = sensorStream.Reader;
            var purchaseInput = purchaseStream.Reader;
            var relays = new List<Task>();
            if (kinesis is not null)
            {
                // Through Kinesis: the replayed rows are put to the streams and the consumers read them back.
                var sensorBack = Channel.CreateBounded<SensorReading>(10_000);
                var purchaseBack = Channel.CreateBounded<Purchase>(10_000);
                relays.Add(Task.Run(() => KinesisRelay.RelayAsync(kinesis, options.KinesisStreamPrefix + "sensor-readings", sensorStream.Reader, sensorBack.Writer, DataLakeJson.Default.SensorReading, r => r.MachineId, cancellationToken), cancellationToken));
                relays.Add(Task.Run(() => KinesisRelay.RelayAsync(kinesis, options.KinesisStreamPrefix + "customer-purchases", purchaseStream.Reader, purchaseBack.Writer, DataLakeJson.Default.Purchase, p => p.CustomerId, cancellationToken), cancellationToken));
                sensorInput = sensorBack.Reader;
                purchaseInput = purchaseBack.Reader;
            }

            var sensorConsumer = Task.Run(() => ConsumeSensorsAsync(sensorInput, scoredStream.Writer, rawSensors, scoredSink, cancellationToken), cancellationToken);
            var purchaseConsumer = Task.Run(() => ConsumePurchasesAsync(purchaseInput, purchasesForPipelines.Writer, rawPurchases, customers, cancellationToken), cancellationToken);
            var sensorPipelines = StreamPipeline.RunAsync(new ChannelSource<ScoredReading>(scoredStream.Reader), [hourly, sensorDaily], cancellationToken);
            var purchasePipelines = purchaseDaily.RunAsync(new ChannelSource<Purchase>(purchasesForPipelines.Reader), cancellationToken);
            sensorRows = await sensorReplay.ConfigureAwait(false);
            purchaseRows = await purchaseReplay.ConfigureAwait(false);
            await Task.WhenAll([.. relays, sensorConsumer, purchaseConsumer, sensorPipelines, purchasePipelines]).ConfigureAwait(false);
        };

        long ingestStarted = time.GetTimestamp();
        if (options.ShowProgress && AnsiConsole.Profile.Capabilities.Interactive)
        {
            long sensorLines = File.ReadLines(sensorPath).LongCount() - 1;
            long purchaseLines = File.ReadLines(purchasePath).LongCount() - 1;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var sensorTask = context.AddTask("sensor readings", maxValue: sensorLines);
                    var purchaseTask = context.AddTask("customer purchases", maxValue: purchaseLines);
                    await ingest(
                        n => Update(sensorTask, "sensor readings", n, sensorRejected.Count),
                        n => Update(purchaseTask, "customer purchases", n, rejected.Count)).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
        else
        {
            await ingest(null, null).ConfigureAwait(false);
        }

        void Update(ProgressTask task, string name, long rows, int bad)
        {
            double seconds = Math.Max(time.GetElapsedTime(ingestStarted).TotalSeconds, 1e-3);
            task.Value = rows;
            task.Description = string.Create(CultureInfo.InvariantCulture, $"{name}: {rows / seconds,8:N0} rows/s, {bad:N0} rejected");
        }

        rejected.InsertRange(0, sensorRejected);
        double ingestSeconds = Math.Max(time.GetElapsedTime(ingestStarted).TotalSeconds, 1e-3);
        output.WriteLine($"Replayed {sensorRows + purchaseRows:N0} rows ({(sensorRows + purchaseRows) / ingestSeconds:N0} rows/s), rejected {rejected.Count:N0}:");
        foreach (var row in rejected.Take(5))
        {
            output.WriteLine($"  {row.File} line {row.Line}: {row.Reason}");
        }

        if (rejected.Count > 5)
        {
            output.WriteLine($"  ... and {rejected.Count - 5:N0} more in {Path.Combine(options.WorkFolder, "rejected-rows.csv")}");
        }

        await File.WriteAllLinesAsync(Path.Combine(options.WorkFolder, "rejected-rows.csv"), ["file,line,reason", .. rejected.Select(r => $"{r.File},{r.Line},\"{r.Reason.Replace("\"", "\"\"", StringComparison.Ordinal)}\"")], cancellationToken).ConfigureAwait(false);

        // Alerts: machine-hours whose highest priority reached the high band.
        var alerts = machineHours.Where(h => h.MaxPriority >= high).OrderBy(h => h.HourStart).ThenBy(h => h.MachineId, StringComparer.Ordinal).ToList();
        output.WriteLine($"Maintenance alerts: {alerts.Count:N0} machine-hours of {machineHours.Count:N0} at high priority or above");
        foreach (var alert in alerts.Take(5))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {alert.HourStart:yyyy-MM-dd HH:mm} {alert.MachineId} priority {alert.MaxPriority:F2}, avg {alert.AverageTemperature:F1} °C"));
        }

        // Customer value and the top 8%.
        var values = ScoreCustomers(customers);
        int top = (int)Math.Ceiling(values.Count * HighValueFraction);
        double totalSpend = values.Sum(v => v.Spend);
        double topSpend = values.Take(top).Sum(v => v.Spend);
        double share = totalSpend > 0 ? topSpend / totalSpend : 0;
        var rows = values.Select((v, i) => v with { Segment = i < top ? "high-value" : "other" }).ToArray();
        await customersSink.WriteAsync(rows, cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"High-value customers: {top:N0} of {values.Count:N0} (top 8% by value) bring {share:P1} of revenue"));

        // The cross-domain summary per day.
        double bestRevenue = purchaseDays.Count == 0 ? 0 : purchaseDays.Values.Max(d => d.Revenue);
        var days = sensorDays.Keys.Union(purchaseDays.Keys).Order().Select(day =>
        {
            var s = sensorDays.GetValueOrDefault(day);
            var p = purchaseDays.GetValueOrDefault(day);
            double score = (0.5 * (1 - (s.Count > 0 ? s.AveragePriority : 0))) + (0.5 * (bestRevenue > 0 ? p.Revenue / bestRevenue : 0));
            return new DailySummary(day, s.Count, Math.Round(s.AveragePriority, 4), s.High, p.Count, Math.Round(p.Revenue, 2), Math.Round(score, 4));
        }).ToArray();
        output.WriteLine("Day         readings  avg priority  high  purchases     revenue  integrated");
        foreach (var d in days)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{d.Day:yyyy-MM-dd} {d.Readings,9:N0} {d.AveragePriority,13:F3} {d.HighPriorityReadings,5:N0} {d.Purchases,10:N0} {d.Revenue,11:N0} {d.IntegratedScore,11:F3}"));
        }

        await hoursSink.WriteAsync(machineHours.ToArray(), cancellationToken).ConfigureAwait(false);
        await summarySink.WriteAsync(days, cancellationToken).ConfigureAwait(false);
        foreach (var sink in new ISink<DailySummary>[] { summarySink })
        {
            await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        await hoursSink.FlushAsync(cancellationToken).ConfigureAwait(false);
        await customersSink.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Athena DDL for every table.
        var ddl = new[]
        {
            rawSensors.DescribeTable("datalake").ToAthenaDdl(),
            rawPurchases.DescribeTable("datalake").ToAthenaDdl(),
            scoredSink.DescribeTable("datalake").ToAthenaDdl(),
            hoursSink.DescribeTable("datalake").ToAthenaDdl(),
            customersSink.DescribeTable("datalake").ToAthenaDdl(),
            summarySink.DescribeTable("datalake").ToAthenaDdl(),
        };
        string ddlPath = Path.Combine(options.WorkFolder, "athena-ddl.sql");
        await File.WriteAllTextAsync(ddlPath, string.Join(";\n\n", ddl) + ";\n", cancellationToken).ConfigureAwait(false);
        output.WriteLine($"Athena DDL of the six tables in {ddlPath}; the first:");
        output.WriteLine(ddl[0]);

        // Compaction of every table.
        long before, after;
        if (options.Compact)
        {
            var compaction = await CompactAsync(store, time, cancellationToken).ConfigureAwait(false);
            before = compaction.Sum(r => r.ObjectsBefore);
            after = compaction.Sum(r => r.ObjectsAfter);
        }
        else
        {
            before = after = (await store.ListKeysAsync(LakePrefix, cancellationToken).ConfigureAwait(false)).Count(k => k.EndsWith(".parquet", StringComparison.Ordinal));
        }

        long csvBytes = new FileInfo(sensorPath).Length + new FileInfo(purchasePath).Length;
        long rawBytes = (await store.ListObjectsAsync($"{LakePrefix}raw/", cancellationToken).ConfigureAwait(false)).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal)).Sum(o => o.Size ?? 0);
        var elapsed = time.GetElapsedTime(started);
        output.WriteLine();
        output.WriteLine("Run summary");
        output.WriteLine($"  records in           {sensorRows:N0} sensor rows + {purchaseRows:N0} purchase rows, {rejected.Count:N0} rejected");
        output.WriteLine($"  alerts               {alerts.Count:N0} high-priority machine-hours");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  high-value share     {share:P1} of revenue from the top {top:N0} customers"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  CSV vs Parquet       {csvBytes:N0} bytes as CSV, {rawBytes:N0} bytes as Parquet in the raw zone ({1 - ((double)rawBytes / csvBytes):P1} smaller)"));
        output.WriteLine($"  compaction           {before:N0} objects before, {after:N0} after");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  elapsed              {elapsed.TotalSeconds:F1} s"));
        return new DataLakeResult(sensorRows, purchaseRows, rejected, machineHours.Count, alerts.Count, values.Count, top, share, days.Length, csvBytes, rawBytes, before, after, LakePrefix, elapsed);
    }

    /// <summary>Gets the lake's tables.</summary>
    public static IReadOnlyList<(DataLakeZone Zone, string Table)> Tables { get; } =
    [
        (DataLakeZone.Raw, "sensor_readings"),
        (DataLakeZone.Raw, "customer_purchases"),
        (DataLakeZone.Processed, "machine_priority"),
        (DataLakeZone.Analytics, "machine_hours"),
        (DataLakeZone.Analytics, "customer_value"),
        (DataLakeZone.Analytics, "daily_summary"),
    ];

    /// <summary>Runs the compaction job over every table of the lake (ZSTD, as the sinks write).</summary>
    public static async Task<IReadOnlyList<CompactionResult>> CompactAsync(IObjectStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var results = new List<CompactionResult>();
        foreach (var (zone, table) in Tables)
        {
            var options = new ParquetCompactorOptions { Store = store, Prefix = LakePrefix, Zone = zone, TableName = table, TimeProvider = time, WriterOptions = CompactedParquet };
            foreach (string column in SortOrder(table))
            {
                options.SortBy.Add(column);
            }

            var compactor = new ParquetCompactor(options);
            results.Add(await compactor.RunAsync(cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>
    /// The order compaction gives a table's merged objects: a machine's or a customer's rows together, in time order,
    /// so neighbouring values are alike (smaller files) and queries for one machine or customer skip row groups.
    /// </summary>
    public static IReadOnlyList<string> SortOrder(string table) => table switch
    {
        "sensor_readings" or "machine_priority" => ["machine_id", "timestamp"],
        _ => [],
    };

    /// <summary>Scores every customer and sorts them by value, highest first (ties by id).</summary>
    public static List<CustomerValueRow> ScoreCustomers(IReadOnlyDictionary<string, CustomerState> customers)
    {
        var scorer = new CustomerValueScorer();
        var end = customers.Values.Select(c => c.Last).DefaultIfEmpty().Max();
        var values = new List<CustomerValueRow>(customers.Count);
        foreach (var (id, c) in customers)
        {
            var activity = new CustomerActivity((end - c.Last).TotalDays, c.Purchases, c.Spend, c.RatingSum / c.Purchases, (c.Last - c.First).TotalDays, c.ReturnRate);
            values.Add(new CustomerValueRow(id, c.Purchases, Math.Round(c.Spend, 2), scorer.Score(activity), "other"));
        }

        values.Sort((a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.CustomerId, b.CustomerId));
        return values;
    }

    private static S3Sink<T> Sink<T>(IObjectStore store, DataLakeOptions options, DataLakeZone zone, string table, Func<T, DateTimeOffset>? time, ParquetRecordMap<T>? map = null)
        where T : class
        => new(new S3SinkOptions<T>
        {
            Store = store,
            Format = new ParquetObjectFormat<T>(map ?? ParquetRecordMap.FromProperties<T>(), Parquet),
            Prefix = LakePrefix,
            Zone = zone,
            TableName = table,
            Layout = time is null ? KeyLayout<T>.Unpartitioned() : KeyLayout<T>.Hive(TimePartitioning.Day, time),
            MaxRecordsPerObject = options.ObjectRows,
            MaxObjectAge = TimeSpan.FromDays(1),
        });

    private static async Task ConsumeSensorsAsync(ChannelReader<SensorReading> input, ChannelWriter<ScoredReading> scored, S3Sink<SensorReading> raw, S3Sink<ScoredReading> processed, CancellationToken cancellationToken)
    {
        try
        {
            var scorer = new MaintenancePriorityScorer();
            var baselines = new Dictionary<string, MachineBaseline>(StringComparer.Ordinal);
            var rawBatch = new List<SensorReading>(2_000);
            var scoredBatch = new List<ScoredReading>(2_000);
            await foreach (var reading in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var result = Score(scorer, baselines, reading);
                rawBatch.Add(reading);
                scoredBatch.Add(result);
                await scored.WriteAsync(result, cancellationToken).ConfigureAwait(false);
                if (rawBatch.Count == rawBatch.Capacity)
                {
                    await raw.WriteAsync(rawBatch.ToArray(), cancellationToken).ConfigureAwait(false);
                    await processed.WriteAsync(scoredBatch.ToArray(), cancellationToken).ConfigureAwait(false);
                    rawBatch.Clear();
                    scoredBatch.Clear();
                }
            }

            await raw.WriteAsync(rawBatch.ToArray(), cancellationToken).ConfigureAwait(false);
            await processed.WriteAsync(scoredBatch.ToArray(), cancellationToken).ConfigureAwait(false);
            await raw.FlushAsync(cancellationToken).ConfigureAwait(false);
            await processed.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            scored.TryComplete();
        }
    }

    /// <summary>Scores one reading against its machine's baseline (kept across readings, in stream order).</summary>
    public static ScoredReading Score(MaintenancePriorityScorer scorer, Dictionary<string, MachineBaseline> baselines, SensorReading reading)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(reading);
        ref var baseline = ref CollectionsMarshal.GetValueRefOrAddDefault(baselines, reading.MachineId, out _);
        var priority = scorer.Score(
            new MachineReading(reading.Temperature, reading.Vibration, reading.Pressure, reading.Humidity, reading.EnergyConsumption, AnomalyFlag: reading.AnomalyFlag ? 1 : 0, RemainingLifeHours: reading.PredictedRemainingLife, DowntimeRisk: reading.DowntimeRisk),
            ref baseline);
        return new ScoredReading(reading.MachineId, reading.Timestamp, reading.Temperature, reading.Vibration, reading.EnergyConsumption, priority.Score, priority.Band.ToString(), priority.TopFactor.ToString());
    }

    private static async Task ConsumePurchasesAsync(ChannelReader<Purchase> input, ChannelWriter<Purchase> forward, S3Sink<Purchase> raw, Dictionary<string, CustomerState> customers, CancellationToken cancellationToken)
    {
        try
        {
            var batch = new List<Purchase>(2_000);
            await foreach (var purchase in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                Accumulate(customers, purchase);
                batch.Add(purchase);
                await forward.WriteAsync(purchase, cancellationToken).ConfigureAwait(false);
                if (batch.Count == batch.Capacity)
                {
                    await raw.WriteAsync(batch.ToArray(), cancellationToken).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            await raw.WriteAsync(batch.ToArray(), cancellationToken).ConfigureAwait(false);
            await raw.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            forward.TryComplete();
        }
    }

    /// <summary>Adds a purchase to its customer's state.</summary>
    public static void Accumulate(Dictionary<string, CustomerState> customers, Purchase purchase)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(purchase);
        if (!customers.TryGetValue(purchase.CustomerId, out var state))
        {
            customers.Add(purchase.CustomerId, state = new CustomerState { First = purchase.Timestamp, Last = purchase.Timestamp });
        }

        state.Purchases++;
        state.Spend += purchase.PurchaseAmount;
        state.RatingSum += purchase.ProductRating;
        state.ReturnRate = purchase.ReturnRate;
        state.First = purchase.Timestamp < state.First ? purchase.Timestamp : state.First;
        state.Last = purchase.Timestamp > state.Last ? purchase.Timestamp : state.Last;
    }
}

/// <summary>What the consumer keeps per customer.</summary>
public sealed class CustomerState
{
    /// <summary>Gets or sets the number of purchases.</summary>
    public long Purchases { get; set; }

    /// <summary>Gets or sets the total spend.</summary>
    public double Spend { get; set; }

    /// <summary>Gets or sets the sum of product ratings.</summary>
    public double RatingSum { get; set; }

    /// <summary>Gets or sets the customer's return rate (the last one reported).</summary>
    public double ReturnRate { get; set; }

    /// <summary>Gets or sets the first purchase time.</summary>
    public DateTimeOffset First { get; set; }

    /// <summary>Gets or sets the last purchase time.</summary>
    public DateTimeOffset Last { get; set; }
}
