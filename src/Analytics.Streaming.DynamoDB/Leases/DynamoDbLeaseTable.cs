using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// A lease table in the Kinesis Client Library's layout: one item per shard, hash key <c>leaseKey</c>, every change a
/// conditional write on the lease counter, so that two workers never both believe they hold a lease.
/// </summary>
/// <remarks>
/// <para>
/// Each operation is one DynamoDB request (plus one consistent <c>GetItem</c> after a failed condition, to recognise
/// a write of ours that a retried request had already applied, as the KCL does). Throttling, HTTP 5xx and connection
/// failures are retried through the retry options given (on top of the SDK client's own retries); a failed condition
/// is an answer, not an error: the methods return <see langword="null"/> or <see langword="false"/>.
/// </para>
/// <para>Thread-safe. The client is not disposed by the table.</para>
/// </remarks>
public sealed class DynamoDbLeaseTable
{
    private readonly IAmazonDynamoDB _client;
    private readonly ResiliencePipeline _retry;
    private readonly ILogger _logger;

    /// <summary>Creates a lease table client; nothing is called until a method is.</summary>
    /// <param name="client">The DynamoDB client (shared; thread-safe).</param>
    /// <param name="tableName">The table: the KCL uses the application name.</param>
    /// <param name="retry">How throttling, 5xx and connection failures are retried; <see langword="null"/> for a short budget that suits lease renewal (4 attempts within 2 seconds).</param>
    /// <param name="timeProvider">The clock of the retry waits; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Where retries and table creation are logged (event ids 4200-4249); <see langword="null"/> for none.</param>
    public DynamoDbLeaseTable(IAmazonDynamoDB client, string tableName, RetryOptions? retry = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _client = client;
        TableName = tableName;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DynamoDbLeaseTable>();
        _retry = RetryPipelineFactory.Create(
            retry ?? LeaseCoordinatorOptions.DefaultRetry(),
            timeProvider ?? TimeProvider.System,
            IsTransient,
            notice => DynamoDbLeaseLog.CallRetrying(_logger, TableName, notice.Outcome.Exception?.GetType().Name ?? "call", notice.FailedAttempt, notice.Delay, notice.Outcome.Exception!));
    }

    /// <summary>Gets the table name.</summary>
    public string TableName { get; }

    /// <summary>
    /// Creates the table when it does not exist (on-demand capacity, hash key <c>leaseKey</c> of type S, as the KCL
    /// creates it) and waits until it is <c>ACTIVE</c>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call and the wait.</param>
    /// <returns><see langword="true"/> when this call created the table.</returns>
    /// <remarks>The wait polls DescribeTable every 50 ms of real time, for at most 2 minutes.</remarks>
    public async Task<bool> CreateTableIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        bool created = false;
        try
        {
            await _retry.ExecuteAsync(
                static async (table, token) => await table._client.CreateTableAsync(
                    new CreateTableRequest
                    {
                        TableName = table.TableName,
                        KeySchema = [new KeySchemaElement(LeaseAttributes.LeaseKey, KeyType.HASH)],
                        AttributeDefinitions = [new AttributeDefinition(LeaseAttributes.LeaseKey, ScalarAttributeType.S)],
                        BillingMode = BillingMode.PAY_PER_REQUEST,
                    },
                    token).ConfigureAwait(false),
                this,
                cancellationToken).ConfigureAwait(false);
            created = true;
            DynamoDbLeaseLog.TableCreated(_logger, TableName);
        }
        catch (ResourceInUseException)
        {
            // It exists already (or is being created by another worker): wait for it below.
        }

        for (int attempt = 1; ; attempt++)
        {
            var status = await _retry.ExecuteAsync(
                static async (table, token) => (await table._client.DescribeTableAsync(table.TableName, token).ConfigureAwait(false)).Table.TableStatus,
                this,
                cancellationToken).ConfigureAwait(false);
            if (status == TableStatus.ACTIVE)
            {
                return created;
            }

            if (attempt >= 2400)
            {
                throw new TimeoutException($"Lease table {TableName} did not become ACTIVE within 2 minutes (status {status}).");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads every lease (a paged Scan; eventually consistent, as the KCL reads it).</summary>
    /// <param name="cancellationToken">Cancels the scan.</param>
    /// <returns>The leases, ordered by lease key.</returns>
    public async Task<IReadOnlyList<KinesisLease>> ListLeasesAsync(CancellationToken cancellationToken = default)
    {
        var leases = new List<KinesisLease>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await _retry.ExecuteAsync(
                static async (state, token) => await state.Table._client.ScanAsync(new ScanRequest { TableName = state.Table.TableName, ExclusiveStartKey = state.Start }, token).ConfigureAwait(false),
                (Table: this, Start: start),
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                leases.Add(LeaseAttributes.FromItem(item));
            }

            start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (start is not null);

        leases.Sort(static (a, b) => string.CompareOrdinal(a.LeaseKey, b.LeaseKey));
        return leases;
    }

    /// <summary>Reads one lease with a consistent read.</summary>
    /// <param name="leaseKey">The lease key (shard id).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The lease, or <see langword="null"/> when there is none.</returns>
    public async Task<KinesisLease?> GetLeaseAsync(string leaseKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseKey);
        var response = await _retry.ExecuteAsync(
            static async (state, token) => await state.Table._client.GetItemAsync(
                new GetItemRequest { TableName = state.Table.TableName, Key = LeaseAttributes.Key(state.Key), ConsistentRead = true },
                token).ConfigureAwait(false),
            (Table: this, Key: leaseKey),
            cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? LeaseAttributes.FromItem(item) : null;
    }

    /// <summary>Writes a new lease unless one with its key exists (<c>attribute_not_exists(leaseKey)</c>).</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the lease was created; <see langword="false"/> when it existed.</returns>
    public async Task<bool> CreateLeaseIfNotExistsAsync(KinesisLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        try
        {
            await _retry.ExecuteAsync(
                static async (state, token) => await state.Table._client.PutItemAsync(
                    new PutItemRequest
                    {
                        TableName = state.Table.TableName,
                        Item = LeaseAttributes.ToItem(state.Lease),
                        ConditionExpression = "attribute_not_exists(leaseKey)",
                    },
                    token).ConfigureAwait(false),
                (Table: this, Lease: lease),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Renews a lease this worker holds: the counter goes up by one, on condition that counter and owner are still
    /// those of <paramref name="lease"/>.
    /// </summary>
    /// <param name="lease">The lease as this worker last wrote it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The renewed lease, or <see langword="null"/> when the lease was taken (or released) meanwhile.</returns>
    public Task<KinesisLease?> RenewLeaseAsync(KinesisLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string owner = lease.LeaseOwner ?? throw new ArgumentException("A lease without an owner cannot be renewed.", nameof(lease));
        return ConditionalUpdateAsync(
            "renew",
            lease,
            new UpdateItemRequest
            {
                UpdateExpression = "SET leaseCounter = :next",
                ConditionExpression = "leaseCounter = :counter AND leaseOwner = :owner",
                ExpressionAttributeValues = new(StringComparer.Ordinal)
                {
                    [":next"] = LeaseAttributes.N(lease.LeaseCounter + 1),
                    [":counter"] = LeaseAttributes.N(lease.LeaseCounter),
                    [":owner"] = LeaseAttributes.S(owner),
                },
            },
            stored => stored.LeaseOwner == owner && stored.LeaseCounter == lease.LeaseCounter + 1,
            cancellationToken);
    }

    /// <summary>
    /// Takes a lease for <paramref name="owner"/>: an expired or unowned one, or one stolen from a busier worker.
    /// Conditional on the counter this worker last observed; <c>ownerSwitchesSinceCheckpoint</c> goes up by one when the
    /// owner changes.
    /// </summary>
    /// <param name="lease">The lease as this worker last observed it.</param>
    /// <param name="owner">The taking worker.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The lease now held by <paramref name="owner"/>, or <see langword="null"/> when another write came first.</returns>
    public Task<KinesisLease?> TakeLeaseAsync(KinesisLease lease, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        bool switches = lease.LeaseOwner is not null && lease.LeaseOwner != owner;
        var values = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            [":next"] = LeaseAttributes.N(lease.LeaseCounter + 1),
            [":counter"] = LeaseAttributes.N(lease.LeaseCounter),
            [":owner"] = LeaseAttributes.S(owner),
        };
        if (switches)
        {
            values[":one"] = LeaseAttributes.N(1);
        }

        return ConditionalUpdateAsync(
            "take",
            lease,
            new UpdateItemRequest
            {
                UpdateExpression = "SET leaseOwner = :owner, leaseCounter = :next REMOVE checkpointOwner" + (switches ? " ADD ownerSwitchesSinceCheckpoint :one" : string.Empty),
                ConditionExpression = "leaseCounter = :counter",
                ExpressionAttributeValues = values,
            },
            stored => stored.LeaseOwner == owner && stored.LeaseCounter == lease.LeaseCounter + 1,
            cancellationToken);
    }

    /// <summary>
    /// Releases a lease (the KCL's eviction): removes <c>leaseOwner</c> and adds one to the counter, on condition that
    /// the owner is still <paramref name="lease"/>'s, so any worker may take it at once.
    /// </summary>
    /// <param name="lease">The lease as this worker last wrote it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The released lease, or <see langword="null"/> when another worker held it already.</returns>
    public Task<KinesisLease?> EvictLeaseAsync(KinesisLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string owner = lease.LeaseOwner ?? throw new ArgumentException("A lease without an owner cannot be released.", nameof(lease));
        return ConditionalUpdateAsync(
            "evict",
            lease,
            new UpdateItemRequest
            {
                UpdateExpression = "REMOVE leaseOwner, checkpointOwner ADD leaseCounter :one",
                ConditionExpression = "leaseOwner = :owner",
                ExpressionAttributeValues = new(StringComparer.Ordinal) { [":one"] = LeaseAttributes.N(1), [":owner"] = LeaseAttributes.S(owner) },
            },
            stored => stored.LeaseOwner is null && stored.LeaseCounter > lease.LeaseCounter,
            cancellationToken);
    }

    /// <summary>
    /// Writes a checkpoint to a lease this worker holds: <c>checkpoint</c> and <c>checkpointSubSequenceNumber</c> set,
    /// <c>ownerSwitchesSinceCheckpoint</c> back to 0, any <c>pendingCheckpoint</c> removed, the counter up by one; on
    /// condition that counter and owner are still those of <paramref name="lease"/>.
    /// </summary>
    /// <param name="lease">The lease as this worker last wrote it.</param>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The updated lease, or <see langword="null"/> when the lease was taken meanwhile.</returns>
    public Task<KinesisLease?> CheckpointAsync(KinesisLease lease, LeaseCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(checkpoint.SequenceNumber, nameof(checkpoint));
        string owner = lease.LeaseOwner ?? throw new ArgumentException("A lease without an owner cannot be checkpointed.", nameof(lease));
        return ConditionalUpdateAsync(
            "checkpoint",
            lease,
            new UpdateItemRequest
            {
                UpdateExpression = "SET checkpoint = :checkpoint, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero, leaseCounter = :next "
                    + "REMOVE pendingCheckpoint, pendingCheckpointSubSequenceNumber, pendingCheckpointState",
                ConditionExpression = "leaseCounter = :counter AND leaseOwner = :owner",
                ExpressionAttributeValues = new(StringComparer.Ordinal)
                {
                    [":checkpoint"] = LeaseAttributes.S(checkpoint.SequenceNumber),
                    [":sub"] = LeaseAttributes.N(checkpoint.SubSequenceNumber),
                    [":zero"] = LeaseAttributes.N(0),
                    [":next"] = LeaseAttributes.N(lease.LeaseCounter + 1),
                    [":counter"] = LeaseAttributes.N(lease.LeaseCounter),
                    [":owner"] = LeaseAttributes.S(owner),
                },
            },
            stored => stored.LeaseOwner == owner && stored.LeaseCounter == lease.LeaseCounter + 1 && stored.Checkpoint == checkpoint,
            cancellationToken);
    }

    /// <summary>Adds child shards to a lease's <c>childShardIds</c> (a set union; the counter is not touched, as in the KCL).</summary>
    /// <param name="leaseKey">The lease key.</param>
    /// <param name="childShardIds">The children.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the lease exists and was updated.</returns>
    public async Task<bool> AddChildShardIdsAsync(string leaseKey, IReadOnlyCollection<string> childShardIds, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseKey);
        ArgumentNullException.ThrowIfNull(childShardIds);
        if (childShardIds.Count == 0)
        {
            return true;
        }

        try
        {
            await _retry.ExecuteAsync(
                static async (state, token) => await state.Table._client.UpdateItemAsync(
                    new UpdateItemRequest
                    {
                        TableName = state.Table.TableName,
                        Key = LeaseAttributes.Key(state.Key),
                        UpdateExpression = "ADD childShardIds :children",
                        ConditionExpression = "attribute_exists(leaseKey)",
                        ExpressionAttributeValues = new(StringComparer.Ordinal) { [":children"] = new AttributeValue { SS = [.. state.Children] } },
                    },
                    token).ConfigureAwait(false),
                (Table: this, Key: leaseKey, Children: childShardIds),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>Deletes a lease unconditionally (for cleaning up after shards past retention).</summary>
    /// <param name="leaseKey">The lease key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the item is gone.</returns>
    public async Task DeleteLeaseAsync(string leaseKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseKey);
        await _retry.ExecuteAsync(
            static async (state, token) => await state.Table._client.DeleteItemAsync(
                new DeleteItemRequest { TableName = state.Table.TableName, Key = LeaseAttributes.Key(state.Key) },
                token).ConfigureAwait(false),
            (Table: this, Key: leaseKey),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a DynamoDB failure is worth another attempt: throttling, HTTP 5xx, connection failures.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        ConditionalCheckFailedException => false,
        ProvisionedThroughputExceededException or RequestLimitExceededException or InternalServerErrorException => true,
        AmazonServiceException service => service.StatusCode >= HttpStatusCode.InternalServerError
            || service.ErrorCode is "ThrottlingException" or "Throttling" or "TooManyRequestsException" or "ServiceUnavailable" or "LimitExceededException",
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };

    private async Task<KinesisLease?> ConditionalUpdateAsync(string operation, KinesisLease lease, UpdateItemRequest request, Func<KinesisLease, bool> appliedAlready, CancellationToken cancellationToken)
    {
        request.TableName = TableName;
        request.Key = LeaseAttributes.Key(lease.LeaseKey);
        request.ReturnValues = ReturnValue.ALL_NEW;
        try
        {
            var response = await _retry.ExecuteAsync(
                static async (state, token) => await state.Table._client.UpdateItemAsync(state.Request, token).ConfigureAwait(false),
                (Table: this, Request: request),
                cancellationToken).ConfigureAwait(false);
            return LeaseAttributes.FromItem(response.Attributes);
        }
        catch (ConditionalCheckFailedException)
        {
            // A request the SDK or the retry pipeline sent twice may have applied the write the first time: look.
            var stored = await GetLeaseAsync(lease.LeaseKey, cancellationToken).ConfigureAwait(false);
            if (stored is not null && appliedAlready(stored))
            {
                DynamoDbLeaseLog.SpuriousConditionFailure(_logger, TableName, operation, lease.LeaseKey);
                return stored;
            }

            return null;
        }
    }
}
