using System.Globalization;
using Amazon.DynamoDBv2;
using Analytics.Streaming.Kinesis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// Shares a Kinesis stream's shards among the workers of one application through a KCL-compatible lease table:
/// creates a lease per shard, renews the leases this worker holds, takes expired ones, balances toward an even share,
/// and hands its leases over on shutdown. As an <see cref="IShardAssignment"/> it tells a
/// <see cref="KinesisShardConsumer"/> which shards to read.
/// </summary>
/// <remarks>
/// <para>
/// <b>Leases.</b> Every write is conditional on the lease counter (and owner), so of two workers racing for a lease
/// exactly one wins. A worker holds a lease while it renews it (every <see cref="LeaseCoordinatorOptions.RenewalInterval"/>);
/// another worker considers it expired once it has seen the same counter for <see cref="LeaseCoordinatorOptions.FailoverTime"/>
/// on its own clock (no clocks are compared across machines), and this worker stops treating a lease as held when its
/// renewals have failed for the failover time, before anyone else can take it.
/// </para>
/// <para>
/// <b>Balance.</b> Workers are the distinct owners of live leases, plus this one. Each scan, a worker holding fewer than
/// <c>ceil(active leases / workers)</c> takes expired or unowned leases first; when there are none, it steals at most
/// <see cref="LeaseCoordinatorOptions.MaxLeasesToStealAtOneTime"/> from the busiest worker, and only when that one holds at
/// least two more than it does (so two workers never pass a lease back and forth). Leases at <c>SHARD_END</c> and
/// leases whose parents are not at <c>SHARD_END</c> are not active: they are neither taken nor counted.
/// </para>
/// <para>
/// <b>Resharding.</b> Leases carry <c>parentShardId</c>, <c>childShardIds</c> and the hash key range. A child's lease
/// is taken only once every parent's lease is at <c>SHARD_END</c> (or gone, past retention), so parents are read to
/// their end before their children, across splits and merges.
/// </para>
/// <para>Thread-safe. <see cref="RunAsync"/> runs the schedule; the step methods run one round each, for tests and custom schedules.</para>
/// </remarks>
public sealed class LeaseCoordinator : IShardAssignment
{
    private readonly IKinesisClient _kinesis;
    private readonly LeaseCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HeldLease> _held = new(StringComparer.Ordinal);
    private readonly HashSet<string> _finished = new(StringComparer.Ordinal);
    private Dictionary<string, Observed> _observed = new(StringComparer.Ordinal);
    private int _workerCount = 1;
    private int _targetCount;

    /// <summary>Creates a coordinator; nothing is called until a method is.</summary>
    /// <param name="dynamoDb">The DynamoDB client of the lease table (not disposed by the coordinator).</param>
    /// <param name="kinesis">The Kinesis client, to list the stream's shards.</param>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public LeaseCoordinator(IAmazonDynamoDB dynamoDb, IKinesisClient kinesis, LeaseCoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _kinesis = kinesis;
        _options = options;
        _time = options.TimeProvider;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<LeaseCoordinator>();
        Table = new DynamoDbLeaseTable(dynamoDb, options.ApplicationName, options.Retry, options.TimeProvider, options.LoggerFactory);
    }

    /// <inheritdoc />
    public event EventHandler? Changed;

    /// <summary>Gets this worker's id (the <c>leaseOwner</c> it writes).</summary>
    public string WorkerId => _options.WorkerId;

    /// <summary>Gets the lease table.</summary>
    public DynamoDbLeaseTable Table { get; }

    /// <summary>Gets the options.</summary>
    public LeaseCoordinatorOptions Options => _options;

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: a consumer given the coordinator reads every held shard until cancelled. Use <see cref="ForShard"/> for a pipeline per shard.</remarks>
    public bool EndsWithShards => false;

    /// <summary>Gets the leases this worker holds now (renewed within the failover time).</summary>
    public IReadOnlyList<KinesisLease> HeldLeases
    {
        get
        {
            long now = _time.GetTimestamp();
            lock (_gate)
            {
                return [.. _held.Values.Where(h => IsValid(h, now)).Select(h => h.Lease).OrderBy(l => l.LeaseKey, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Gets how many workers the last scan counted (distinct owners of live leases, plus this one).</summary>
    public int WorkerCount
    {
        get
        {
            lock (_gate)
            {
                return _workerCount;
            }
        }
    }

    /// <summary>Gets how many active leases the last scan aimed at for this worker.</summary>
    public int TargetLeaseCount
    {
        get
        {
            lock (_gate)
            {
                return _targetCount;
            }
        }
    }

    /// <summary>Tells whether this worker holds a shard's lease now.</summary>
    /// <param name="shardId">The shard.</param>
    /// <returns><see langword="true"/> when the lease is held and was renewed within the failover time.</returns>
    public bool Holds(string shardId)
    {
        ArgumentNullException.ThrowIfNull(shardId);
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            return _held.TryGetValue(shardId, out var held) && IsValid(held, now);
        }
    }

    /// <summary>
    /// Gets the fencing token of a lease this worker holds: the lease counter its take wrote. Each take writes a
    /// higher counter than any earlier owner held, so a checkpoint store that keeps the highest token refuses the
    /// saves of an owner that has not noticed yet that its lease was taken.
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <returns>The token, or <see langword="null"/> when the lease is not held.</returns>
    internal long? FenceOf(string shardId)
    {
        lock (_gate)
        {
            return _held.TryGetValue(shardId, out var held) ? held.Fence : null;
        }
    }

    /// <inheritdoc />
    public ShardAssignmentState GetShard(string shardId)
    {
        ArgumentNullException.ThrowIfNull(shardId);
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            bool finished = _finished.Contains(shardId);
            if (_held.TryGetValue(shardId, out var held) && IsValid(held, now))
            {
                var checkpoint = held.Lease.Checkpoint;
                return new ShardAssignmentState(true, finished || checkpoint.IsShardEnd, checkpoint.ToResumePosition(shardId), checkpoint.ToStartingPosition(_options.InitialPosition.Timestamp));
            }

            return new ShardAssignmentState(false, finished);
        }
    }

    /// <summary>
    /// Gets a view of this coordinator that assigns one shard only, while this worker holds its lease, and ends the
    /// consumer's enumeration when that shard has been read to its end: the source of a pipeline per shard.
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <returns>The assignment.</returns>
    public IShardAssignment ForShard(string shardId)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        return new SingleShardAssignment(this, shardId);
    }

    /// <summary>Creates the lease table if it does not exist (on-demand capacity) and waits until it is active.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the table is usable.</returns>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => Table.CreateTableIfNotExistsAsync(cancellationToken);

    /// <summary>
    /// Runs the coordinator until <paramref name="cancellationToken"/> is cancelled: creates the table if missing,
    /// syncs shards to leases (at start and every <see cref="LeaseCoordinatorOptions.ShardSyncInterval"/>), renews
    /// held leases, and scans to take and balance. When cancelled, it releases every lease it holds, so other
    /// workers take them at once; checkpoint before cancelling.
    /// </summary>
    /// <param name="cancellationToken">Stops the coordinator.</param>
    /// <returns>A task that completes when the coordinator has stopped and released its leases.</returns>
    /// <remarks>A failing step is logged and tried again at its next interval; it does not stop the coordinator.</remarks>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var renewing = RenewLoopAsync(cancellationToken);
        var taking = TakeLoopAsync(cancellationToken);
        try
        {
            await Task.WhenAll(renewing, taking).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }

        using var release = new CancellationTokenSource(_options.FailoverTime, _time);
        await ReleaseAllAsync(release.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Lists the stream's shards and creates a lease for each shard that has none (conditional put: workers syncing
    /// together create each lease once), with parents, children and hash key range; adds newly known children to
    /// existing leases.
    /// </summary>
    /// <param name="cancellationToken">Cancels the step.</param>
    /// <returns>The number of leases created.</returns>
    public async Task<int> SyncShardsAsync(CancellationToken cancellationToken = default)
    {
        var shards = await _kinesis.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = _options.StreamName, StreamArn = _options.StreamArn }, cancellationToken).ConfigureAwait(false);
        var existing = (await Table.ListLeasesAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.LeaseKey, StringComparer.Ordinal);
        var children = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            foreach (string parent in shard.ParentShardIds)
            {
                if (!children.TryGetValue(parent, out var set))
                {
                    children[parent] = set = new SortedSet<string>(StringComparer.Ordinal);
                }

                set.Add(shard.ShardId);
            }
        }

        // Descendants of a shard that has a lease appeared since an earlier sync, even several generations at once
        // (two reshards between syncs): they start at the trim horizon, not at the initial position.
        var descendants = new HashSet<string>(existing.Keys, StringComparer.Ordinal);
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var shard in shards)
            {
                if (!descendants.Contains(shard.ShardId)
                    && shard.ParentShardIds.Any(descendants.Contains)
                    && descendants.Add(shard.ShardId))
                {
                    grew = true;
                }
            }
        }

        int created = 0;
        foreach (var shard in shards)
        {
            children.TryGetValue(shard.ShardId, out var childSet);
            if (existing.TryGetValue(shard.ShardId, out var lease))
            {
                if (childSet is not null && childSet.Any(c => !lease.ChildShardIds.Contains(c, StringComparer.Ordinal)))
                {
                    await Table.AddChildShardIdsAsync(shard.ShardId, childSet, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            string[] parents = [.. shard.ParentShardIds];
            var checkpoint = descendants.Contains(shard.ShardId) ? LeaseCheckpoint.TrimHorizon : InitialCheckpoint(shard);
            var fresh = new KinesisLease
            {
                LeaseKey = shard.ShardId,
                Checkpoint = checkpoint,
                ParentShardIds = parents,
                ChildShardIds = childSet is null ? [] : [.. childSet],
                StartingHashKey = shard.HashKeyRange.StartingHashKey.ToString(CultureInfo.InvariantCulture),
                EndingHashKey = shard.HashKeyRange.EndingHashKey.ToString(CultureInfo.InvariantCulture),
            };
            if (await Table.CreateLeaseIfNotExistsAsync(fresh, cancellationToken).ConfigureAwait(false))
            {
                created++;
                DynamoDbLeaseLog.LeaseCreated(_logger, _options.ApplicationName, shard.ShardId, checkpoint);
            }
        }

        DynamoDbLeaseLog.ShardsSynced(_logger, _options.ApplicationName, shards.Count, created, existing.Count + created);
        return created;
    }

    /// <summary>Renews every lease this worker holds (one conditional UpdateItem each, in parallel); drops those another worker took.</summary>
    /// <param name="cancellationToken">Cancels the step.</param>
    /// <returns>A task that completes when every renewal has been answered.</returns>
    public async Task RenewLeasesAsync(CancellationToken cancellationToken = default)
    {
        HeldLease[] held;
        lock (_gate)
        {
            held = [.. _held.Values];
        }

        bool changed = false;
        await Task.WhenAll(held.Select(async h =>
        {
            await h.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!IsCurrent(h))
                {
                    return;
                }

                long started = _time.GetTimestamp();
                KinesisLease? renewed;
                try
                {
                    renewed = await Table.RenewLeaseAsync(h.Lease, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
                {
                    LeaseTelemetry.Renewals.Add(1, LeaseTelemetry.Tags(_options, "outcome", "failed"));
                    var remaining = _options.FailoverTime - _time.GetElapsedTime(h.RenewedAt);
                    if (remaining <= TimeSpan.Zero)
                    {
                        changed |= Drop(h, "renewals failed for the failover time");
                    }
                    else
                    {
                        DynamoDbLeaseLog.RenewalFailed(_logger, _options.ApplicationName, h.Lease.LeaseKey, remaining, e);
                    }

                    return;
                }

                if (renewed is null)
                {
                    LeaseTelemetry.Renewals.Add(1, LeaseTelemetry.Tags(_options, "outcome", "lost"));
                    changed |= Drop(h, "another worker took it");
                }
                else
                {
                    LeaseTelemetry.Renewals.Add(1, LeaseTelemetry.Tags(_options, "outcome", "renewed"));
                    lock (_gate)
                    {
                        h.Lease = renewed;
                        h.RenewedAt = started;
                    }
                }
            }
            finally
            {
                h.Gate.Release();
            }
        })).ConfigureAwait(false);
        if (changed)
        {
            OnChanged();
        }
    }

    /// <summary>
    /// Scans the lease table, notes which leases changed (their owners are alive), and takes leases toward this
    /// worker's share: expired or unowned ones first, otherwise at most <see cref="LeaseCoordinatorOptions.MaxLeasesToStealAtOneTime"/>
    /// stolen from the busiest worker.
    /// </summary>
    /// <param name="cancellationToken">Cancels the step.</param>
    /// <returns>The leases taken in this round.</returns>
    public async Task<IReadOnlyList<KinesisLease>> TakeLeasesAsync(CancellationToken cancellationToken = default)
    {
        var leases = await Table.ListLeasesAsync(cancellationToken).ConfigureAwait(false);
        long now = _time.GetTimestamp();
        string me = _options.WorkerId;
        var toTake = new List<(KinesisLease Lease, string Reason)>();
        int active, held, target, workers;
        lock (_gate)
        {
            var observed = new Dictionary<string, Observed>(StringComparer.Ordinal);
            foreach (var lease in leases)
            {
                bool same = _observed.TryGetValue(lease.LeaseKey, out var before)
                    && before.Lease.LeaseCounter == lease.LeaseCounter
                    && string.Equals(before.Lease.LeaseOwner, lease.LeaseOwner, StringComparison.Ordinal);
                observed[lease.LeaseKey] = new Observed(lease, same ? before!.ChangedAt : now);
                if (lease.IsFinished)
                {
                    _finished.Add(lease.LeaseKey);
                }
            }

            _observed = observed;
            var activeLeases = leases.Where(l => IsActive(l, observed)).ToList();
            active = activeLeases.Count;
            held = activeLeases.Count(l => _held.TryGetValue(l.LeaseKey, out var h) && IsValid(h, now));
            var counts = new Dictionary<string, int>(StringComparer.Ordinal) { [me] = held };
            var expired = new List<KinesisLease>();
            foreach (var lease in activeLeases)
            {
                if (_held.ContainsKey(lease.LeaseKey))
                {
                    continue;
                }

                bool isExpired = lease.LeaseOwner is null
                    || lease.LeaseOwner == me
                    || _time.GetElapsedTime(observed[lease.LeaseKey].ChangedAt, now) >= _options.FailoverTime;
                if (isExpired)
                {
                    expired.Add(lease);
                }
                else
                {
                    counts[lease.LeaseOwner!] = counts.GetValueOrDefault(lease.LeaseOwner!) + 1;
                }
            }

            workers = counts.Count;
            target = active == 0 ? 0 : (active + workers - 1) / workers;
            _workerCount = workers;
            _targetCount = target;
            int needed = target - held;
            if (needed > 0 && expired.Count > 0)
            {
                Shuffle(expired);
                toTake.AddRange(expired.Take(needed).Select(l => (l, l.LeaseOwner is null ? "unowned" : "expired")));
            }
            else if (needed > 0 && _options.MaxLeasesToStealAtOneTime > 0)
            {
                var busiest = counts.Where(c => c.Key != me).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).FirstOrDefault();
                if (busiest.Key is not null && busiest.Value - held >= 2)
                {
                    int steal = Math.Min(Math.Min(needed, _options.MaxLeasesToStealAtOneTime), (busiest.Value - held) / 2);
                    var victims = activeLeases.Where(l => l.LeaseOwner == busiest.Key).ToList();
                    Shuffle(victims);
                    toTake.AddRange(victims.Take(steal).Select(l => (l, "stolen to balance")));
                }
            }
        }

        var taken = new List<KinesisLease>();
        foreach (var (lease, reason) in toTake)
        {
            long started = _time.GetTimestamp();
            var result = await Table.TakeLeaseAsync(lease, me, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                continue;
            }

            lock (_gate)
            {
                _held[result.LeaseKey] = new HeldLease(result, started);
                held++;
            }

            taken.Add(result);
            LeaseTelemetry.Held.Add(1, LeaseTelemetry.Tags(_options));
            LeaseTelemetry.Taken.Add(1, LeaseTelemetry.Tags(_options, "reason", reason.StartsWith("stolen", StringComparison.Ordinal) ? "stolen" : reason));
            DynamoDbLeaseLog.LeaseTaken(_logger, _options.ApplicationName, me, result.LeaseKey, lease.LeaseOwner ?? "nobody", reason, held, active, target, workers);
        }

        if (taken.Count > 0)
        {
            OnChanged();
        }

        return taken;
    }

    /// <summary>
    /// Writes a checkpoint to a lease this worker holds (conditional on owner and counter). At <c>SHARD_END</c> the
    /// lease is then released: a finished shard needs no owner, and its children become available to every worker.
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="checkpoint">The checkpoint: the last position processed, or <see cref="LeaseCheckpoint.ShardEnd"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The lease as written.</returns>
    /// <exception cref="LeaseLostException">This worker does not hold the lease (any more).</exception>
    public async Task<KinesisLease> CheckpointAsync(string shardId, LeaseCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        var held = GetHeld(shardId) ?? throw new LeaseLostException(shardId, WorkerId, "it does not hold the lease");
        KinesisLease written;
        await held.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsCurrent(held) || !IsValid(held, _time.GetTimestamp()))
            {
                throw new LeaseLostException(shardId, WorkerId, "the lease expired or was taken");
            }

            long started = _time.GetTimestamp();
            var result = await Table.CheckpointAsync(held.Lease, checkpoint, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                if (Drop(held, "another worker took it"))
                {
                    OnChanged();
                }

                throw new LeaseLostException(shardId, WorkerId, "another worker took the lease");
            }

            lock (_gate)
            {
                held.Lease = result;
                held.RenewedAt = started;
                if (checkpoint.IsShardEnd)
                {
                    _finished.Add(shardId);
                }
            }

            written = result;
            LeaseTelemetry.Checkpoints.Add(1, LeaseTelemetry.Tags(_options));
            DynamoDbLeaseLog.LeaseCheckpointed(_logger, _options.ApplicationName, shardId, checkpoint);
        }
        finally
        {
            held.Gate.Release();
        }

        if (checkpoint.IsShardEnd)
        {
            await ReleaseAsync(shardId, cancellationToken).ConfigureAwait(false);
        }

        return written;
    }

    /// <summary>Releases one held lease (removes the owner, adds one to the counter): any worker may take it at once.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the lease was released; <see langword="false"/> when this worker did not hold it.</returns>
    public async Task<bool> ReleaseAsync(string shardId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        var held = GetHeld(shardId);
        if (held is null)
        {
            return false;
        }

        bool released = false;
        await held.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsCurrent(held))
            {
                return false;
            }

            var result = await Table.EvictLeaseAsync(held.Lease, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _held.Remove(shardId);
            }

            LeaseTelemetry.Held.Add(-1, LeaseTelemetry.Tags(_options));
            released = result is not null;
            if (released)
            {
                DynamoDbLeaseLog.LeaseReleased(_logger, _options.ApplicationName, WorkerId, shardId, held.Lease.Checkpoint);
            }
        }
        finally
        {
            held.Gate.Release();
        }

        OnChanged();
        return released;
    }

    /// <summary>Releases every lease this worker holds (graceful shutdown: other workers take them at their next scan, without waiting for the failover time).</summary>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <returns>A task that completes when every release has been answered.</returns>
    public async Task ReleaseAllAsync(CancellationToken cancellationToken = default)
    {
        string[] keys;
        lock (_gate)
        {
            keys = [.. _held.Keys];
        }

        foreach (string key in keys)
        {
            try
            {
                await ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The lease expires by itself after the failover time.
                DynamoDbLeaseLog.StepFailed(_logger, _options.ApplicationName, WorkerId, "release", e);
            }
        }
    }

    private static void Shuffle<T>(List<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Random.Shared.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    /// <summary>A lease is active when it is not at SHARD_END and every parent is (or is gone).</summary>
    private static bool IsActive(KinesisLease lease, Dictionary<string, Observed> all) =>
        !lease.IsFinished && lease.ParentShardIds.All(p => !all.TryGetValue(p, out var parent) || parent.Lease.IsFinished);

    private LeaseCheckpoint InitialCheckpoint(KinesisShard shard) => _options.InitialPosition.Type switch
    {
        KinesisStartingPositionType.Latest => shard.IsClosed ? LeaseCheckpoint.ShardEnd : LeaseCheckpoint.Latest,
        KinesisStartingPositionType.AtTimestamp => LeaseCheckpoint.AtTimestamp,
        _ => LeaseCheckpoint.TrimHorizon,
    };

    private bool IsValid(HeldLease held, long now) =>
        _time.GetElapsedTime(held.RenewedAt, now) < _options.FailoverTime;

    private HeldLease? GetHeld(string shardId)
    {
        lock (_gate)
        {
            return _held.GetValueOrDefault(shardId);
        }
    }

    private bool IsCurrent(HeldLease held)
    {
        lock (_gate)
        {
            return _held.TryGetValue(held.Lease.LeaseKey, out var current) && ReferenceEquals(current, held);
        }
    }

    private bool Drop(HeldLease held, string reason)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(held.Lease.LeaseKey, out var current) || !ReferenceEquals(current, held))
            {
                return false;
            }

            _held.Remove(held.Lease.LeaseKey);
        }

        LeaseTelemetry.Held.Add(-1, LeaseTelemetry.Tags(_options));
        LeaseTelemetry.Lost.Add(1, LeaseTelemetry.Tags(_options, "reason", reason));
        DynamoDbLeaseLog.LeaseLost(_logger, _options.ApplicationName, WorkerId, held.Lease.LeaseKey, reason);
        return true;
    }

    private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty);

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_options.EffectiveRenewalInterval, _time, cancellationToken).ConfigureAwait(false);
            await RunStepAsync("renew", RenewLeasesAsync, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TakeLoopAsync(CancellationToken cancellationToken)
    {
        long lastSync = 0;
        bool synced = false;
        while (true)
        {
            if (!synced || _time.GetElapsedTime(lastSync) >= _options.ShardSyncInterval)
            {
                synced = await RunStepAsync("shard sync", SyncShardsAsync, cancellationToken).ConfigureAwait(false) || synced;
                lastSync = _time.GetTimestamp();
            }

            await RunStepAsync("take", TakeLeasesAsync, cancellationToken).ConfigureAwait(false);
            await Task.Delay(_options.EffectiveTakingInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> RunStepAsync<T>(string name, Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        try
        {
            await step(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            DynamoDbLeaseLog.StepFailed(_logger, _options.ApplicationName, WorkerId, name, e);
            return false;
        }
    }

    private Task<bool> RunStepAsync(string name, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        RunStepAsync(name, async token => { await step(token).ConfigureAwait(false); return true; }, cancellationToken);

    private sealed record Observed(KinesisLease Lease, long ChangedAt);

    private sealed class HeldLease(KinesisLease lease, long renewedAt)
    {
        public KinesisLease Lease { get; set; } = lease;

        public long RenewedAt { get; set; } = renewedAt;

        /// <summary>Gets the lease counter written by the take: every later owner's take writes a higher one.</summary>
        public long Fence { get; } = lease.LeaseCounter;

        public SemaphoreSlim Gate { get; } = new(1, 1);
    }

    /// <summary>One shard of a coordinator, for the consumer of a pipeline per shard.</summary>
    private sealed class SingleShardAssignment(LeaseCoordinator coordinator, string shardId) : IShardAssignment
    {
        public event EventHandler? Changed
        {
            add => coordinator.Changed += value;
            remove => coordinator.Changed -= value;
        }

        public bool EndsWithShards => true;

        public ShardAssignmentState GetShard(string id)
        {
            var state = coordinator.GetShard(id);
            return string.Equals(id, shardId, StringComparison.Ordinal) ? state : state with { IsAssigned = false, ResumeAfter = null, StartingPosition = null };
        }
    }
}
