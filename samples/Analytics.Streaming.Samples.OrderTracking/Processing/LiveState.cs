using System.Collections.Concurrent;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>What the live page shows, as one JSON object.</summary>
/// <param name="Mode">The stream, the status table, the mail transport.</param>
/// <param name="Counters">The consumer's counters.</param>
/// <param name="StatusCounts">Orders per current status (those this process saw).</param>
/// <param name="Minutes">Per-minute analytics, newest last (at most 60).</param>
/// <param name="Recent">The latest status changes stored, newest first.</param>
/// <param name="Watermark">The analytics pipelines' watermark.</param>
public sealed record LiveSnapshot(string Mode, ConsumerCounters Counters, IReadOnlyDictionary<string, long> StatusCounts, IReadOnlyList<MinuteStats> Minutes, IReadOnlyList<StatusChange> Recent, DateTimeOffset? Watermark);

/// <summary>The consumer's running totals.</summary>
/// <param name="EventsRead">Events read from the stream and fully processed: stored or ignored, e-mail sent or skipped (redeliveries included).</param>
/// <param name="EventsApplied">Events stored (a higher version than the table had).</param>
/// <param name="EventsIgnored">Events ignored: redelivered or reordered (version not higher than stored).</param>
/// <param name="ConfirmationsSent">Confirmation e-mails sent.</param>
/// <param name="ConfirmationsSkipped">Confirmations not sent again because the table says they were sent.</param>
/// <param name="SendFailures">Failed send attempts (retried).</param>
/// <param name="Accepted">API requests accepted.</param>
/// <param name="Rejected">API requests refused (4xx).</param>
public sealed record ConsumerCounters(long EventsRead, long EventsApplied, long EventsIgnored, long ConfirmationsSent, long ConfirmationsSkipped, long SendFailures, long Accepted, long Rejected);

/// <summary>One minute of the analytics.</summary>
/// <param name="Start">The minute (UTC).</param>
/// <param name="OrdersPlaced">Orders placed in it.</param>
/// <param name="Revenue">Their total amount.</param>
/// <param name="StatusChanges">Events per status in it.</param>
/// <param name="TopItems">The items ordered most in it (by quantity, at most five).</param>
/// <param name="Closed">Whether the window is final.</param>
public sealed record MinuteStats(DateTimeOffset Start, long OrdersPlaced, double Revenue, IReadOnlyDictionary<string, long> StatusChanges, IReadOnlyList<ItemSold> TopItems, bool Closed);

/// <summary>How many of an item the placed orders of a minute hold.</summary>
/// <param name="Sku">The item.</param>
/// <param name="Quantity">The quantity.</param>
public sealed record ItemSold(string Sku, long Quantity);

/// <summary>A stored status change.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Status">The new status.</param>
/// <param name="Version">Its version.</param>
/// <param name="Time">The event's time.</param>
/// <param name="Amount">The order's total.</param>
public sealed record StatusChange(string OrderId, string CustomerId, OrderStatus Status, long Version, DateTimeOffset Time, decimal Amount);

/// <summary>The live state behind <c>/api/live</c> and <c>/api/stream</c>; thread-safe.</summary>
public sealed class LiveState
{
    private const int KeptMinutes = 60;
    private const int KeptChanges = 50;
    private const int TopItems = 5;
    private readonly ConcurrentDictionary<string, (OrderStatus Status, long Version)> _orders = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly SortedDictionary<DateTimeOffset, MinuteRow> _minutes = [];
    private readonly LinkedList<StatusChange> _recent = new();
    private long _read, _applied, _ignored, _sent, _skipped, _failures, _accepted, _rejected, _changes;

    /// <summary>Gets or sets the mode line.</summary>
    public string Mode { get; set; } = string.Empty;

    /// <summary>Gets or sets where the watermark comes from.</summary>
    public Func<DateTimeOffset?>? Watermark { get; set; }

    /// <summary>Gets a number that grows with every change (the event stream sends a snapshot when it moved).</summary>
    public long Changes => Interlocked.Read(ref _changes);

    /// <summary>Counts an accepted API request.</summary>
    public void Accepted() => Touch(ref _accepted);

    /// <summary>Counts a refused API request.</summary>
    public void Rejected() => Touch(ref _rejected);

    /// <summary>Counts events read and processed (after the whole batch is done).</summary>
    /// <param name="count">How many.</param>
    public void Read(int count)
    {
        Interlocked.Add(ref _read, count);
        Interlocked.Increment(ref _changes);
    }

    /// <summary>Records the outcome of one event.</summary>
    /// <param name="order">The event.</param>
    /// <param name="applied">Whether the table stored it.</param>
    public void OnEvent(OrderEvent order, bool applied)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (!applied)
        {
            Touch(ref _ignored);
            return;
        }

        _orders.AddOrUpdate(order.OrderId, (order.Status, order.Version), (_, old) => old.Version >= order.Version ? old : (order.Status, order.Version));
        lock (_lock)
        {
            _recent.AddFirst(new StatusChange(order.OrderId, order.CustomerId, order.Status, order.Version, order.Time, order.Amount));
            while (_recent.Count > KeptChanges)
            {
                _recent.RemoveLast();
            }
        }

        Touch(ref _applied);
    }

    /// <summary>Counts a sent confirmation.</summary>
    public void ConfirmationSent() => Touch(ref _sent);

    /// <summary>Counts a confirmation not sent again.</summary>
    public void ConfirmationSkipped() => Touch(ref _skipped);

    /// <summary>Counts a failed send.</summary>
    public void SendFailed() => Touch(ref _failures);

    /// <summary>Takes per-minute orders and revenue (the <c>orders-per-minute</c> pipeline's results).</summary>
    /// <param name="results">The window results.</param>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A completed task.</returns>
    public ValueTask OnOrdersPerMinuteAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Orders, double Revenue)>> results, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var r in results.Span)
            {
                var row = Row(r.Window.Start);
                if (row is not null)
                {
                    (row.Orders, row.Revenue) = r.Value;
                    row.Closed |= r.Reason != EmitReason.Update;
                }
            }
        }

        Interlocked.Increment(ref _changes);
        return ValueTask.CompletedTask;
    }

    /// <summary>Takes per-minute status changes (the <c>status-per-minute</c> pipeline's results).</summary>
    /// <param name="results">The window results.</param>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A completed task.</returns>
    public ValueTask OnStatusPerMinuteAsync(ReadOnlyMemory<WindowResult<string, long>> results, CancellationToken cancellationToken)
        => PerMinuteAndKey(results, row => row.Statuses);

    /// <summary>Takes per-minute quantities per item (the <c>items-per-minute</c> pipeline's results).</summary>
    /// <param name="results">The window results.</param>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A completed task.</returns>
    public ValueTask OnItemsPerMinuteAsync(ReadOnlyMemory<WindowResult<string, long>> results, CancellationToken cancellationToken)
        => PerMinuteAndKey(results, row => row.Items);

    /// <summary>The current snapshot.</summary>
    /// <returns>The snapshot.</returns>
    public LiveSnapshot Snapshot()
    {
        var counts = Enum.GetNames<OrderStatus>().ToDictionary(n => n, _ => 0L, StringComparer.Ordinal);
        foreach (var (_, (status, _)) in _orders)
        {
            counts[status.ToString()]++;
        }

        lock (_lock)
        {
            var minutes = _minutes.Select(m => new MinuteStats(
                m.Key,
                m.Value.Orders,
                m.Value.Revenue,
                new Dictionary<string, long>(m.Value.Statuses, StringComparer.Ordinal),
                [.. m.Value.Items.OrderByDescending(i => i.Value).ThenBy(i => i.Key, StringComparer.Ordinal).Take(TopItems).Select(i => new ItemSold(i.Key, i.Value))],
                m.Value.Closed)).ToArray();
            var counters = new ConsumerCounters(
                Interlocked.Read(ref _read), Interlocked.Read(ref _applied), Interlocked.Read(ref _ignored), Interlocked.Read(ref _sent),
                Interlocked.Read(ref _skipped), Interlocked.Read(ref _failures), Interlocked.Read(ref _accepted), Interlocked.Read(ref _rejected));
            return new LiveSnapshot(Mode, counters, counts, minutes, _recent.ToArray(), Watermark?.Invoke());
        }
    }

    /// <summary>Stores per-minute results keyed by a name into the minute's table that <paramref name="table"/> picks.</summary>
    private ValueTask PerMinuteAndKey(ReadOnlyMemory<WindowResult<string, long>> results, Func<MinuteRow, Dictionary<string, long>> table)
    {
        lock (_lock)
        {
            foreach (var r in results.Span)
            {
                if (Row(r.Window.Start) is { } row)
                {
                    table(row)[r.Key] = r.Value;
                }
            }
        }

        Interlocked.Increment(ref _changes);
        return ValueTask.CompletedTask;
    }

    private MinuteRow? Row(DateTimeOffset start)
    {
        if (!_minutes.TryGetValue(start, out var row))
        {
            if (_minutes.Count >= KeptMinutes && start < _minutes.Keys.First())
            {
                return null;
            }

            row = new MinuteRow();
            _minutes[start] = row;
            while (_minutes.Count > KeptMinutes)
            {
                _minutes.Remove(_minutes.Keys.First());
            }
        }

        return row;
    }

    private void Touch(ref long counter)
    {
        Interlocked.Increment(ref counter);
        Interlocked.Increment(ref _changes);
    }

    private sealed class MinuteRow
    {
        public long Orders { get; set; }

        public double Revenue { get; set; }

        public bool Closed { get; set; }

        public Dictionary<string, long> Statuses { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Items { get; } = new(StringComparer.Ordinal);
    }
}
