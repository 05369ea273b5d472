using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.DynamoDB;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The per-minute results in DynamoDB, when <c>Outputs:DynamoDb:TableName</c> is set: one item per minute window
/// (<c>pk</c> <c>per-minute#*</c>, <c>sk</c> the window's ISO-8601 start and end), written through
/// <see cref="DynamoDbSink{T}"/> in its versioned mode, so live updates of the open minute replace older values and
/// a replay never moves an item back. Attributes: <c>events</c>, <c>uniqueVisitors</c>, <c>loadP50Ms</c>,
/// <c>loadP99Ms</c>, <c>reason</c> (<c>Update</c> while the minute is open, <c>Closed</c> once final). The table is
/// created from the item map when it does not exist.
/// </summary>
public sealed class DynamoDbOutput : IAsyncDisposable
{
    private readonly AmazonDynamoDBClient _client;
    private readonly DynamoDbOutputOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private DynamoDbSink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>? _sink;

    /// <summary>Creates the DynamoDB client.</summary>
    /// <param name="options">Table, region and endpoint.</param>
    /// <param name="time">The clock.</param>
    /// <param name="loggerFactory">Logging for the sink.</param>
    /// <param name="credentials">AWS credentials; <see langword="null"/> uses AWSSDK.Core's default chain.</param>
    public DynamoDbOutput(DynamoDbOutputOptions options, TimeProvider time, ILoggerFactory loggerFactory, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _loggerFactory = loggerFactory;
        var config = new AmazonDynamoDBConfig { RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region) };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = options.Region;
        }

        _client = credentials is null ? new AmazonDynamoDBClient(config) : new AmazonDynamoDBClient(credentials, config);
    }

    /// <summary>Gets the item map of a minute window.</summary>
    public static DynamoDbItemMap<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> Map { get; } =
        DynamoDbItemMap.ForWindowResults<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>()
            .Number("events", r => r.Value.Count)
            .Number("uniqueVisitors", r => r.Value.Visitors)
            .Number("loadP50Ms", r => Finite(r.Value.Latency.P50))
            .Number("loadP99Ms", r => Finite(r.Value.Latency.P99))
            .Build();

    /// <summary>Gets where the items go, for the dashboard and the start-up lines.</summary>
    public string Location => $"DynamoDB table {_options.TableName}";

    /// <summary>Creates the table when missing (and waits until it is active), then the sink for the per-minute pipeline.</summary>
    public async Task<ISink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>> StartAsync(CancellationToken cancellationToken)
    {
        string table = _options.TableName!;
        if (!await ExistsAsync(table, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await _client.CreateTableAsync(Map.ToCreateTableRequest(table), cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceInUseException)
            {
                // Made by another instance meanwhile.
            }

            while (!await ExistsAsync(table, cancellationToken).ConfigureAwait(false))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            }
        }

        _sink = new DynamoDbSink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>(_client, new DynamoDbSinkOptions<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>
        {
            TableName = table,
            Map = Map,
            TimeProvider = _time,
            LoggerFactory = _loggerFactory,
        });
        return _sink;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_sink is not null)
        {
            await _sink.DisposeAsync().ConfigureAwait(false);
        }

        _client.Dispose();
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>True when the table exists and is active.</summary>
    private async Task<bool> ExistsAsync(string table, CancellationToken cancellationToken)
    {
        try
        {
            var described = await _client.DescribeTableAsync(table, cancellationToken).ConfigureAwait(false);
            return described.Table.TableStatus == TableStatus.ACTIVE;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }
}
