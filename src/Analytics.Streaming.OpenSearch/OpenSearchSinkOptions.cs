using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.OpenSearch;

/// <summary>The action a document is written with.</summary>
public enum OpenSearchOpType
{
    /// <summary><c>index</c>: create or replace by <c>_id</c> (results, anything rewritten).</summary>
    Index,

    /// <summary>
    /// <c>create</c>: only create; a document already there answers 409, which is success (a replay). Required by data
    /// streams and append-only indices (raw events).
    /// </summary>
    Create,
}

/// <summary>How the version of a document guards against older writes (with <see cref="OpenSearchSinkOptions{T}.Version"/>).</summary>
public enum OpenSearchVersionType
{
    /// <summary>
    /// <c>external_gte</c>: a write succeeds when its version is at least the stored one; an equal version (a replay of
    /// the same result) overwrites with the same content. Default.
    /// </summary>
    ExternalGte,

    /// <summary><c>external</c>: a write succeeds only when its version is greater than the stored one; a replay of the same version answers 409 (counted as stale).</summary>
    External,
}

/// <summary>Settings of an <see cref="OpenSearchSink{T}"/>; validated when the sink is created (<see cref="Validate"/>).</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class OpenSearchSinkOptions<T>
{
    /// <summary>The default of <see cref="MaxBulkBytes"/>: 5 MiB.</summary>
    public const int DefaultMaxBulkBytes = 5 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxBulkActions"/>: 1,000.</summary>
    public const int DefaultMaxBulkActions = 1000;

    /// <summary>Gets or sets the sink's name, the <c>sink</c> tag of its metrics and the subject of its logs. Default <c>opensearch</c>.</summary>
    public string Name { get; set; } = "opensearch";

    /// <summary>
    /// Gets or sets the cluster's base address, such as <c>https://search-x.eu-west-1.es.amazonaws.com/</c>; a path
    /// (a proxy's prefix) is kept: requests go to <c>{Endpoint}_bulk</c>. Required.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets how an item becomes a document. Required.</summary>
    public OpenSearchDocumentMap<T>? Document { get; set; }

    /// <summary>Gets or sets the index an item goes to. Required.</summary>
    public OpenSearchIndex<T>? Index { get; set; }

    /// <summary>
    /// Gets or sets the deterministic <c>_id</c> of an item's document, so that a replay overwrites instead of adding
    /// (for results, <see cref="WindowResult{TKey, TValue}.Id"/>; for events, their source position). Ids longer than
    /// 512 UTF-8 bytes (OpenSearch's limit) are replaced by <c>sha256:</c> and the hex SHA-256 of the id. Required.
    /// </summary>
    public Func<T, string>? Id { get; set; }

    /// <summary>
    /// Gets or sets the version of an item's document, which must grow with every newer value of the same <c>_id</c>
    /// (for results, <see cref="WindowResult{TKey, TValue}.RecordCount"/>), sent as an external version so that the
    /// cluster keeps the newest value whatever order writes arrive in: an older write answers 409 and counts as stale,
    /// not as a failure. <see langword="null"/> (default): no versioning, the last write wins. Only with
    /// <see cref="OpenSearchOpType.Index"/>; versions are 0 to <see cref="long.MaxValue"/>.
    /// </summary>
    public Func<T, long>? Version { get; set; }

    /// <summary>
    /// Gets or sets the items whose documents an item replaces under other identities (for results, the earlier extents
    /// of a session that a record extended or merged, <see cref="WindowResult{TKey, TValue}.Replaces"/>): the sink sends a
    /// <c>delete</c> of each of their documents before the item's own action, with the item's version when
    /// <see cref="Version"/> is set, so a delete never removes a newer document. Default <see langword="null"/>: nothing is deleted.
    /// </summary>
    public Func<T, IEnumerable<T>>? Supersedes { get; set; }

    /// <summary>Gets or sets how <see cref="Version"/> is compared. Default <see cref="OpenSearchVersionType.ExternalGte"/>.</summary>
    public OpenSearchVersionType VersionType { get; set; } = OpenSearchVersionType.ExternalGte;

    /// <summary>Gets or sets the action documents are written with. Default <see cref="OpenSearchOpType.Index"/>; data streams need <see cref="OpenSearchOpType.Create"/>.</summary>
    public OpenSearchOpType OpType { get; set; } = OpenSearchOpType.Index;

    /// <summary>
    /// Gets or sets where documents the cluster refuses for good (mapping errors and other 400s, 404s) and documents
    /// that cannot be written (NaN, invalid raw JSON) go, with the server's reason; the sink flushes it in its own
    /// <see cref="OpenSearchSink{T}.FlushAsync"/>. Pass the pipeline's dead-letter sink (a file, S3 or stream). Default
    /// <see langword="null"/>: such documents are counted and logged (event id 5003) but not stored, as the pipeline
    /// does with its own dead letters when it has no sink for them.
    /// </summary>
    public ISink<DeadLetter>? DeadLetters { get; set; }

    /// <summary>
    /// Gets or sets the position a dead letter of an item reports (for results, the identity and record count).
    /// Called only for documents that become dead letters. Default <see langword="null"/>: partition <c>{index}/{_id}</c>, sequence zero.
    /// </summary>
    public Func<T, StreamPosition>? DeadLetterPosition { get; set; }

    /// <summary>Gets or sets the most body bytes of one <c>_bulk</c> request; a single larger action is sent alone. Default 5 MiB (OpenSearch advises 5 to 15 MB).</summary>
    public int MaxBulkBytes { get; set; } = DefaultMaxBulkBytes;

    /// <summary>Gets or sets the most actions of one <c>_bulk</c> request. Default 1,000.</summary>
    public int MaxBulkActions { get; set; } = DefaultMaxBulkActions;

    /// <summary>Gets or sets how requests authenticate. Default <see cref="OpenSearchAuthentication.None"/>.</summary>
    public OpenSearchAuthentication Authentication { get; set; } = OpenSearchAuthentication.None;

    /// <summary>Gets or sets the HTTP handler requests go through (a proxy, custom certificates, tests); not disposed by the sink. Default <see langword="null"/>: a pooled <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Gets or sets how long one request may take before it counts as failed (and is retried). Default 60 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how items answered with 429 or 5xx, and whole requests refused with 429, 500, 502, 503 or 504 or lost
    /// in transport, are sent again: exponential backoff with full jitter, bounded by attempts and time; then the sink
    /// throws <see cref="OpenSearchDeliveryException"/>. Default <see cref="RetryOptions"/>' defaults.
    /// </summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets the clock for backoff and request signing. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets where retries, rejected documents and failures are logged (event ids 5001-5006). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is missing or out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("OpenSearchSinkOptions.Name must not be empty.", nameof(Name));
        }

        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(Endpoint.Query))
        {
            throw new ArgumentException($"OpenSearchSinkOptions.Endpoint must be an absolute http or https address without a query, such as https://search-x.eu-west-1.es.amazonaws.com/; got '{Endpoint}'.", nameof(Endpoint));
        }

        Require(Document is not null, nameof(Document), "OpenSearchSinkOptions.Document is required: build one with OpenSearchDocumentMap.For<T>() or ForResults<TKey, TValue>().");
        Require(Index is not null, nameof(Index), "OpenSearchSinkOptions.Index is required: OpenSearchIndex.Fixed, Daily or Monthly.");
        Require(Id is not null, nameof(Id), "OpenSearchSinkOptions.Id is required: a deterministic id makes replays overwrite instead of adding documents.");
        Require(Enum.IsDefined(OpType), nameof(OpType), $"OpenSearchSinkOptions.OpType must be Index or Create; got {OpType}.");
        Require(Enum.IsDefined(VersionType), nameof(VersionType), $"OpenSearchSinkOptions.VersionType must be ExternalGte or External; got {VersionType}.");
        Require(
            Supersedes is null || OpType == OpenSearchOpType.Index,
            nameof(Supersedes),
            "OpenSearchSinkOptions.Supersedes works with OpType Index only: data streams and create-only indices accept no deletes by id.");
        Require(
            Version is null || OpType == OpenSearchOpType.Index,
            nameof(Version),
            "OpenSearchSinkOptions.Version works with OpType Index only: create actions support no external versions (a create of an existing document is already refused with 409).");
        Require(MaxBulkBytes is >= 1024 and <= 100 * 1024 * 1024, nameof(MaxBulkBytes), $"OpenSearchSinkOptions.MaxBulkBytes must be 1 KiB to 100 MiB; got {MaxBulkBytes}.");
        Require(MaxBulkActions is >= 1 and <= 100_000, nameof(MaxBulkActions), $"OpenSearchSinkOptions.MaxBulkActions must be 1 to 100,000; got {MaxBulkActions}.");
        Require(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), $"OpenSearchSinkOptions.RequestTimeout must be positive; got {RequestTimeout}.");
        ArgumentNullException.ThrowIfNull(Authentication, nameof(Authentication));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate("OpenSearchSinkOptions.Retry");
    }

    private static void Require(bool condition, string name, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message, name);
        }
    }
}

/// <summary>Ready-made sink settings.</summary>
public static class OpenSearchSinkOptions
{
    /// <summary>
    /// Settings for window results: <c>_id</c> = <see cref="WindowResult{TKey, TValue}.Id"/>, version =
    /// <see cref="WindowResult{TKey, TValue}.RecordCount"/> (external versioning: an older result never replaces a
    /// newer one), the documents of a session's earlier extents deleted, one index per day or month of the window start, dead letters positioned at the identity with the
    /// record count as sequence.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The aggregate type.</typeparam>
    /// <param name="endpoint">The cluster's base address.</param>
    /// <param name="indexPrefix">The index name prefix, such as <c>page-views-</c>.</param>
    /// <param name="document">The document map, usually from <see cref="OpenSearchDocumentMap.ForResults{TKey, TValue}"/>.</param>
    /// <param name="interval">Daily (default) or monthly indices.</param>
    /// <returns>Settings to complete (authentication, dead letters) and pass to the sink.</returns>
    public static OpenSearchSinkOptions<WindowResult<TKey, TValue>> ForResults<TKey, TValue>(
        Uri endpoint,
        string indexPrefix,
        OpenSearchDocumentMap<WindowResult<TKey, TValue>> document,
        OpenSearchIndexInterval interval = OpenSearchIndexInterval.Daily)
        => new()
        {
            Endpoint = endpoint,
            Document = document,
            Index = OpenSearchIndex.ForResults<TKey, TValue>(indexPrefix, interval),
            Id = static r => r.Id,
            Version = static r => r.RecordCount,
            Supersedes = static r => r.Replaces is { Count: > 0 } replaced ? replaced.Select(w => r with { Window = w, Replaces = null }) : [],
            DeadLetterPosition = static r => new StreamPosition(r.Id, SequenceNumber.FromInt64(Math.Max(0, r.RecordCount))),
        };
}
