using Analytics.Streaming.Kinesis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// Runs a pipeline per shard for each shard lease this worker holds: start several workers (processes) with the same
/// application name and they share the stream's shards, each reading only the shards it holds.
/// </summary>
/// <remarks>
/// <para>
/// For each lease the coordinator takes, the worker calls the shard delegate with a <see cref="LeasedShard"/>: a
/// Kinesis consumer of that shard alone and a checkpoint store fenced by the lease. The delegate builds a pipeline
/// with <see cref="StreamPipelineOptions.Partition"/> set to the shard (its checkpoint is then
/// <c>{Name}/{shard}</c>, and its results carry the shard) and runs it on the source until the token is cancelled.
/// </para>
/// <para>
/// <b>Shard end.</b> The source ends when the shard has been read to its end (after a split or merge); the pipeline then
/// closes its windows and saves its final checkpoint, and when the delegate returns the worker checkpoints the lease at
/// <c>SHARD_END</c> and releases it: the children's leases become available to every worker.
/// </para>
/// <para>
/// <b>Lease lost.</b> When another worker takes the lease (expiry or balancing), the shard's token is cancelled: the
/// pipeline stops without closing windows, and its last checkpoint save is refused by the fence. Records it handled
/// after its last checkpoint are handled again by the new owner (bounded by the checkpoint interval plus the renewal
/// interval); results carry deterministic identities, so the sinks overwrite them.
/// </para>
/// <para>
/// <b>Shutdown.</b> Cancelling <see cref="RunAsync"/> stops every shard's pipeline (each saves its final checkpoint while
/// the lease is still held), then releases every lease, so other workers take the shards over at their next scan
/// instead of after the failover time.
/// </para>
/// <para>
/// <b>Failures.</b> A delegate that throws is logged and its lease released, so the shard is tried again (by this or
/// another worker) at the next scan.
/// </para>
/// </remarks>
public sealed class KinesisLeaseWorker
{
    private readonly LeaseCoordinator _coordinator;
    private readonly IKinesisClient _kinesis;
    private readonly KinesisConsumerOptions _consumerOptions;
    private readonly ICheckpointStore? _checkpointStore;
    private readonly Func<LeasedShard, CancellationToken, Task> _processShard;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);

    /// <summary>Creates a worker; nothing runs until <see cref="RunAsync"/>.</summary>
    /// <param name="coordinator">The lease coordinator of this worker (run by the worker).</param>
    /// <param name="kinesis">The Kinesis client the shard consumers read with.</param>
    /// <param name="consumerOptions">The consumers' settings (the same stream as the coordinator's); shared by every shard's consumer.</param>
    /// <param name="checkpointStore">Where the shards' pipelines keep their checkpoints, shared by every worker of the application; <see langword="null"/> for none (the lease checkpoint alone then says where a shard resumes). An <see cref="IFencedCheckpointStore"/> (every built-in store) also refuses the saves of a worker whose lease was taken before it noticed.</param>
    /// <param name="processShard">Runs one shard's pipeline on <see cref="LeasedShard.Source"/> until the token is cancelled or the source ends.</param>
    /// <exception cref="ArgumentException">The consumer options are invalid or name another stream than the coordinator's.</exception>
    public KinesisLeaseWorker(LeaseCoordinator coordinator, IKinesisClient kinesis, KinesisConsumerOptions consumerOptions, ICheckpointStore? checkpointStore, Func<LeasedShard, CancellationToken, Task> processShard)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentNullException.ThrowIfNull(consumerOptions);
        ArgumentNullException.ThrowIfNull(processShard);
        consumerOptions.Validate();
        if (!string.Equals(consumerOptions.StreamName, coordinator.Options.StreamName, StringComparison.Ordinal)
            || !string.Equals(consumerOptions.StreamArn, coordinator.Options.StreamArn, StringComparison.Ordinal))
        {
            throw new ArgumentException("The consumer options must name the coordinator's stream (the same StreamName and StreamArn).", nameof(consumerOptions));
        }

        _coordinator = coordinator;
        _kinesis = kinesis;
        _consumerOptions = consumerOptions;
        _checkpointStore = checkpointStore;
        _processShard = processShard;
        _logger = (coordinator.Options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KinesisLeaseWorker>();
    }

    /// <summary>Gets the coordinator.</summary>
    public LeaseCoordinator Coordinator => _coordinator;

    /// <summary>Gets the shards whose pipelines run now.</summary>
    public IReadOnlyList<string> ProcessingShards
    {
        get
        {
            lock (_running)
            {
                return [.. _running.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Runs the coordinator and the shards' pipelines until <paramref name="cancellationToken"/> is cancelled, then shuts down gracefully.</summary>
    /// <param name="cancellationToken">Stops the worker.</param>
    /// <returns>A task that completes when every pipeline has stopped and every lease has been released.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var coordinatorStop = new CancellationTokenSource();
        var coordinatorRun = _coordinator.RunAsync(coordinatorStop.Token);
        using var wake = new SemaphoreSlim(0);
        EventHandler onChange = (_, _) => wake.Release();
        _coordinator.Changed += onChange;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (coordinatorRun.IsFaulted)
                {
                    await coordinatorRun.ConfigureAwait(false);
                }

                Reconcile();
                try
                {
                    await wake.WaitAsync(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Shutting down.
                }
            }
        }
        finally
        {
            _coordinator.Changed -= onChange;
            Task[] stopping;
            lock (_running)
            {
                foreach (var running in _running.Values)
                {
                    running.Stop.Cancel();
                }

                stopping = [.. _running.Values.Select(r => r.Task)];
            }

            await Task.WhenAll(stopping).ConfigureAwait(false);
            await coordinatorStop.CancelAsync().ConfigureAwait(false);
            await coordinatorRun.ConfigureAwait(false);
        }
    }

    private void Reconcile()
    {
        lock (_running)
        {
            foreach (var (shardId, running) in _running)
            {
                if (!running.Stop.IsCancellationRequested && !_coordinator.Holds(shardId))
                {
                    running.Stop.Cancel();
                }
            }

            foreach (var lease in _coordinator.HeldLeases)
            {
                if (!lease.IsFinished && !_running.ContainsKey(lease.LeaseKey) && !_coordinator.GetShard(lease.LeaseKey).IsFinished)
                {
                    var stop = new CancellationTokenSource();
                    _running[lease.LeaseKey] = new Running(stop, RunShardAsync(lease.LeaseKey, stop));
                }
            }
        }
    }

    private async Task RunShardAsync(string shardId, CancellationTokenSource stop)
    {
        await Task.Yield();
        string application = _coordinator.Options.ApplicationName;
        string worker = _coordinator.WorkerId;
        try
        {
            var source = new KinesisShardConsumer(_kinesis, _consumerOptions, _coordinator.ForShard(shardId));
            var store = _checkpointStore is null ? null : new LeaseFencedCheckpointStore(_checkpointStore, _coordinator, shardId, _logger);
            DynamoDbLeaseLog.ProcessingStarted(_logger, application, worker, shardId);
            try
            {
                await _processShard(new LeasedShard(shardId, source, store), stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped below.
            }
            catch (LeaseLostException)
            {
                DynamoDbLeaseLog.ProcessingStopped(_logger, application, worker, shardId, "lease lost");
                return;
            }
#pragma warning disable CA1031 // One shard's failure must not stop the others: it is logged and the lease released for a retry.
            catch (Exception e)
#pragma warning restore CA1031
            {
                DynamoDbLeaseLog.ProcessingFailed(_logger, application, worker, shardId, e);
                await ReleaseQuietlyAsync(shardId).ConfigureAwait(false);
                return;
            }

            if (stop.IsCancellationRequested)
            {
                DynamoDbLeaseLog.ProcessingStopped(_logger, application, worker, shardId, _coordinator.Holds(shardId) ? "worker stopping" : "lease lost");
                return;
            }

            // The source ended: the shard was read to its end and the pipeline finished it.
            try
            {
                await _coordinator.CheckpointAsync(shardId, LeaseCheckpoint.ShardEnd, CancellationToken.None).ConfigureAwait(false);
                DynamoDbLeaseLog.ProcessingEnded(_logger, application, worker, shardId);
            }
            catch (LeaseLostException)
            {
                DynamoDbLeaseLog.ProcessingStopped(_logger, application, worker, shardId, "lease lost at the shard's end; the next owner finishes it");
            }
#pragma warning disable CA1031 // Logged; the lease expires and the next owner finishes the shard again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                DynamoDbLeaseLog.ProcessingFailed(_logger, application, worker, shardId, e);
            }
        }
        finally
        {
            lock (_running)
            {
                _running.Remove(shardId);
            }

            stop.Dispose();
        }
    }

    private async Task ReleaseQuietlyAsync(string shardId)
    {
        try
        {
            await _coordinator.ReleaseAsync(shardId, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The lease expires by itself after the failover time.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DynamoDbLeaseLog.StepFailed(_logger, _coordinator.Options.ApplicationName, _coordinator.WorkerId, "release", e);
        }
    }

    private sealed record Running(CancellationTokenSource Stop, Task Task);
}
