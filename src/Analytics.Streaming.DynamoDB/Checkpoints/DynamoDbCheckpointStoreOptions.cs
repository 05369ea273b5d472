using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>Settings of a <see cref="DynamoDbCheckpointStore"/>.</summary>
/// <remarks>Validated when the store is created; every message names the property to change.</remarks>
public sealed class DynamoDbCheckpointStoreOptions
{
    /// <summary>The default of <see cref="ChunkSize"/>: 350,000 bytes, leaving room under DynamoDB's 400 KB item limit for the key and attribute names.</summary>
    public const int DefaultChunkSize = 350_000;

    /// <summary>The smallest <see cref="ChunkSize"/>.</summary>
    public const int MinChunkSize = 1024;

    /// <summary>The largest <see cref="ChunkSize"/>.</summary>
    public const int MaxChunkSize = 390_000;

    /// <summary>
    /// Gets or sets the table name. Required. The table has a string partition key <c>pk</c> and a string sort key
    /// <c>sk</c>; create it with <see cref="DynamoDbCheckpointStore.CreateTableRequest"/>.
    /// </summary>
    public string TableName { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the largest checkpoint kept inside the head item, and the size of each chunk of a larger one.
    /// Default 350,000 bytes; 1,024 to 390,000.
    /// </summary>
    public int ChunkSize { get; set; } = DefaultChunkSize;

    /// <summary>Gets or sets the retry policy for throttling, 5xx, dropped connections and unprocessed batch items.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets the clock for retry waits and the <c>savedAt</c> attribute; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory; <see langword="null"/> (the default) for no logging. Event ids 4101-4105.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is invalid, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        const string Owner = "DynamoDbCheckpointStoreOptions";
        if (string.IsNullOrEmpty(TableName) || TableName.Length is < 3 or > 255)
        {
            throw new ArgumentException($"{Owner}.TableName '{TableName}' must be 3 to 255 characters (letters, digits, '_', '-', '.').", nameof(TableName));
        }

        if (ChunkSize is < MinChunkSize or > MaxChunkSize)
        {
            throw new ArgumentException($"{Owner}.ChunkSize is {ChunkSize}: use {MinChunkSize} to {MaxChunkSize} bytes (DynamoDB items are at most 400 KB).", nameof(ChunkSize));
        }

        ArgumentNullException.ThrowIfNull(Retry, $"{Owner}.Retry");
        Retry.Validate($"{Owner}.Retry");
        ArgumentNullException.ThrowIfNull(TimeProvider, $"{Owner}.TimeProvider");
    }
}
