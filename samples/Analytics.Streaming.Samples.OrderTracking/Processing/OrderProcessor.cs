using System.Runtime.CompilerServices;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The consumer's per-event work, done on every batch before the analytics pipelines see it: store the event in the
/// status table (idempotent by order id and version), send the order's confirmation e-mail once, and pass on only the
/// events this process has not seen before (for the analytics and the lake backup).
/// </summary>
/// <remarks>
/// Events of one order are handled in stream order; different orders of a batch in parallel (up to 8). The batch is
/// handed on only when all of it is stored and its e-mails are sent, so a checkpoint never covers an event whose
/// work is not done: after a crash the replay does it again, and the table's conditions make that harmless.
/// </remarks>
public sealed partial class OrderProcessor(
    IOrderStatusStore store,
    IMailTransport mail,
    ConfirmationMessages messages,
    EmailOptions email,
    LiveState live,
    TimeProvider time,
    ILogger<OrderProcessor> log)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly ConcurrentHashSet _seen = new();

    /// <summary>Wraps a source so that every batch is processed before it moves on, deduplicated.</summary>
    /// <param name="source">The order stream.</param>
    /// <param name="lake">The lake backup, or <see langword="null"/>.</param>
    /// <returns>The wrapped source.</returns>
    public IEventSource<OrderEvent> Wrap(IEventSource<OrderEvent> source, OrderLake? lake) => new ProcessedSource(this, source, lake);

    /// <summary>Processes one batch.</summary>
    /// <param name="records">The batch's records.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <returns>The events seen for the first time by this process (by order id and version).</returns>
    public async Task<StreamRecord<OrderEvent>[]> ProcessAsync(ReadOnlyMemory<StreamRecord<OrderEvent>> records, CancellationToken cancellationToken)
    {
        if (records.IsEmpty)
        {
            return [];
        }

        var byOrder = new Dictionary<string, List<OrderEvent>>(StringComparer.Ordinal);
        foreach (var record in records.Span)
        {
            if (!byOrder.TryGetValue(record.Value.OrderId, out var list))
            {
                byOrder[record.Value.OrderId] = list = [];
            }

            list.Add(record.Value);
        }

        await Parallel.ForEachAsync(byOrder.Values, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (events, ct) =>
        {
            foreach (var order in events)
            {
                bool applied = await store.ApplyAsync(order, ct).ConfigureAwait(false);
                live.OnEvent(order, applied);
                if (order.Status == OrderStatus.Placed)
                {
                    await ConfirmOnceAsync(order, ct).ConfigureAwait(false);
                }
            }
        }).ConfigureAwait(false);
        live.Read(records.Length);

        var fresh = new List<StreamRecord<OrderEvent>>(records.Length);
        foreach (var record in records.Span)
        {
            if (_seen.Add(record.Value.OrderId, record.Value.Version))
            {
                fresh.Add(record);
            }
        }

        return fresh.ToArray();
    }

    /// <summary>
    /// Sends the order's confirmation unless the table says it was sent: claim (conditional write), send, mark sent.
    /// A failed send releases the claim and is retried with backoff; a claim another consumer holds is waited for.
    /// </summary>
    private async Task ConfirmOnceAsync(OrderEvent order, CancellationToken cancellationToken)
    {
        string messageId = messages.MessageId(order.OrderId);
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var now = time.GetUtcNow();
            var claim = await store.TryClaimConfirmationAsync(order.OrderId, email.WorkerId, messageId, now, now + email.ClaimLease, cancellationToken).ConfigureAwait(false);
            if (claim == ConfirmationClaim.AlreadySent)
            {
                live.ConfirmationSkipped();
                return;
            }

            if (claim == ConfirmationClaim.HeldByOther)
            {
                // Another consumer is sending (or crashed while sending: its claim expires after the lease).
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await mail.SendAsync(messages.Build(order), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                live.SendFailed();
                Log.SendFailed(log, order.OrderId, backoff, ex);
                await store.ReleaseConfirmationClaimAsync(order.OrderId, email.WorkerId, cancellationToken).ConfigureAwait(false);
                await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            await store.MarkConfirmationSentAsync(order.OrderId, email.WorkerId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            live.ConfirmationSent();
            return;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Sending the confirmation of order {OrderId} failed; trying again in {Backoff}")]
        public static partial void SendFailed(ILogger logger, string orderId, TimeSpan backoff, Exception exception);
    }

    /// <summary>The (order id, version) pairs this process has read.</summary>
    private sealed class ConcurrentHashSet
    {
        private readonly HashSet<(string, long)> _set = [];
        private readonly Lock _lock = new();

        public bool Add(string orderId, long version)
        {
            lock (_lock)
            {
                return _set.Add((orderId, version));
            }
        }
    }

    private sealed class ProcessedSource(OrderProcessor processor, IEventSource<OrderEvent> inner, OrderLake? lake) : IEventSource<OrderEvent>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<OrderEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
            {
                var fresh = await processor.ProcessAsync(batch.Records, cancellationToken).ConfigureAwait(false);
                if (lake is not null && fresh.Length > 0)
                {
                    await lake.AddAsync(Array.ConvertAll(fresh, r => r.Value), cancellationToken).ConfigureAwait(false);
                }

                yield return fresh.Length == batch.Records.Length
                    ? batch
                    : new RecordBatch<OrderEvent>(batch.PartitionId, fresh, batch.DeadLetters, batch.EndPosition, batch.IsEndOfPartition, batch.BehindLatest);
            }
        }
    }
}
