using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>How a <see cref="DynamoDbSink{T}"/> writes items.</summary>
public enum DynamoDbWriteMode
{
    /// <summary>
    /// One conditional <c>PutItem</c> per item: it replaces the stored item only when that has no version or a
    /// version not greater than the new one (<c>attribute_not_exists(v) OR v &lt;= :v</c>). Correct under replays,
    /// late updates and several writers; one request per item. The default.
    /// </summary>
    Versioned,

    /// <summary>
    /// <c>BatchWriteItem</c> in groups of up to 25 items: fewer requests, but the last write wins, since batch writes
    /// cannot be conditional. Correct only when every identity is written with one value (results emitted once, on
    /// close, with no allowed lateness) or when the same process writes an identity's versions in order and no replay
    /// can overlap a newer write.
    /// </summary>
    Batch,
}

/// <summary>Settings of a <see cref="DynamoDbSink{T}"/>: the table, the item map, how items are written and retried.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>Validated when the sink is created; every message names the property to change.</remarks>
public sealed class DynamoDbSinkOptions<T>
{
    /// <summary>Gets or sets the table name. Required.</summary>
    public string TableName { get; set; } = string.Empty;

    /// <summary>Gets or sets how items map to attributes, such as <c>DynamoDbItemMap.ForWindowResults&lt;string, long&gt;()...Build()</c>. Required.</summary>
    public DynamoDbItemMap<T>? Map { get; set; }

    /// <summary>Gets or sets how items are written; <see cref="DynamoDbWriteMode.Versioned"/> by default (needs a version in the map).</summary>
    public DynamoDbWriteMode WriteMode { get; set; } = DynamoDbWriteMode.Versioned;

    /// <summary>
    /// Gets or sets how many items the sink buffers before it writes them without waiting for a flush. Items with
    /// the same key are merged in the buffer (the newest version stays), so a window updated often costs one write
    /// per flush. Default 1,000; 1 to 1,000,000.
    /// </summary>
    public int MaxBufferedItems { get; set; } = 1000;

    /// <summary>Gets or sets how many requests (<c>PutItem</c>, or <c>BatchWriteItem</c> of 25 items) run at once. Default 8; 1 to 256.</summary>
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>
    /// Gets or sets where items that cannot be stored go: larger than 400 KB, an invalid key or value, or refused by
    /// DynamoDB's validation. Each becomes a <see cref="DeadLetter"/> with the reason, whose position names the table
    /// and the item's key. Without one, they are only logged and counted (<see cref="DynamoDbSink{T}.Statistics"/>).
    /// </summary>
    public ISink<DeadLetter>? DeadLetters { get; set; }

    /// <summary>
    /// Gets or sets the bytes kept as the <see cref="DeadLetter.Payload"/> of an item that cannot be stored; by
    /// default the UTF-8 of its <see cref="object.ToString"/>.
    /// </summary>
    public Func<T, ReadOnlyMemory<byte>>? DeadLetterPayload { get; set; }

    /// <summary>
    /// Gets or sets the retry policy for throttling, 5xx, dropped connections and unprocessed batch items; the
    /// defaults of <see cref="RetryOptions"/> (40 attempts, 200 ms to 10 s with full jitter, 2 minutes). The AWS SDK's
    /// own retries run inside each attempt.
    /// </summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets the clock for retry waits; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory; <see langword="null"/> (the default) for no logging. Event ids 4001-4005.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is invalid, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        const string Owner = "DynamoDbSinkOptions";
        if (string.IsNullOrEmpty(TableName) || TableName.Length is < 3 or > 255)
        {
            throw new ArgumentException($"{Owner}.TableName '{TableName}' must be 3 to 255 characters (letters, digits, '_', '-', '.').", nameof(TableName));
        }

        foreach (char c in TableName)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                throw new ArgumentException($"{Owner}.TableName '{TableName}' has '{c}'; DynamoDB table names use letters, digits, '_', '-' and '.'.", nameof(TableName));
            }
        }

        if (Map is null)
        {
            throw new ArgumentException($"{Owner}.Map is required: build one with DynamoDbItemMap.ForWindowResults<TKey, TValue>() or DynamoDbItemMap.For<T>().", nameof(Map));
        }

        if (!Enum.IsDefined(WriteMode))
        {
            throw new ArgumentException($"{Owner}.WriteMode {(int)WriteMode} is not a DynamoDbWriteMode.", nameof(WriteMode));
        }

        if (WriteMode == DynamoDbWriteMode.Versioned && Map.VersionAttributeName is null)
        {
            throw new ArgumentException(
                $"{Owner}.WriteMode is Versioned but the map has no version: add .Version(r => ...) to the map (window results have one: RecordCount), or choose WriteMode = Batch for append-only items.",
                nameof(WriteMode));
        }

        if (MaxBufferedItems is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"{Owner}.MaxBufferedItems is {MaxBufferedItems}: use 1 to 1,000,000.", nameof(MaxBufferedItems));
        }

        if (MaxConcurrentRequests is < 1 or > 256)
        {
            throw new ArgumentException($"{Owner}.MaxConcurrentRequests is {MaxConcurrentRequests}: use 1 to 256.", nameof(MaxConcurrentRequests));
        }

        ArgumentNullException.ThrowIfNull(Retry, $"{Owner}.Retry");
        Retry.Validate($"{Owner}.Retry");
        ArgumentNullException.ThrowIfNull(TimeProvider, $"{Owner}.TimeProvider");
    }
}
