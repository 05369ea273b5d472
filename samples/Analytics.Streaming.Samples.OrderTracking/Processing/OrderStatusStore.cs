using System.Collections.Concurrent;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>The outcome of trying to claim an order's confirmation e-mail.</summary>
public enum ConfirmationClaim
{
    /// <summary>This consumer holds the claim: send, then mark it sent.</summary>
    Claimed,

    /// <summary>The confirmation was already sent: do nothing.</summary>
    AlreadySent,

    /// <summary>Another consumer holds an unexpired claim: try again later (it may still send, or its claim may expire).</summary>
    HeldByOther,
}

/// <summary>
/// The order-status table the consumer maintains. Writes are idempotent by order id and version: an event is stored
/// only when its version is higher than the stored one, so a redelivered (equal) or reordered (lower) event never
/// moves a status backwards. It also holds the once-only claim of each order's confirmation e-mail.
/// </summary>
public interface IOrderStatusStore : IAsyncDisposable
{
    /// <summary>Gets a description, for the start-up lines and the live page.</summary>
    string Location { get; }

    /// <summary>Creates what the store needs (the DynamoDB table), idempotently.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="order"/> if its version is higher than the stored one.</summary>
    /// <param name="order">The event.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when stored; false when an equal or higher version was already there (the event is ignored).</returns>
    Task<bool> ApplyAsync(OrderEvent order, CancellationToken cancellationToken);

    /// <summary>Reads an order (strongly consistent).</summary>
    /// <param name="orderId">The order id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The order, or <see langword="null"/> when unknown.</returns>
    Task<OrderView?> GetAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>Lists a customer's orders (by order id).</summary>
    /// <param name="customerId">The customer.</param>
    /// <param name="limit">The most to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The orders.</returns>
    Task<IReadOnlyList<OrderView>> ListByCustomerAsync(string customerId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the order's confirmation e-mail for <paramref name="owner"/> until <paramref name="until"/>, unless it
    /// was sent or another owner holds an unexpired claim. The owner's own earlier claim (a restart) is taken over.
    /// </summary>
    /// <param name="orderId">The order (its row exists: the event was applied first).</param>
    /// <param name="owner">The consumer's id.</param>
    /// <param name="messageId">The e-mail's stable Message-Id, recorded with the claim.</param>
    /// <param name="now">The current time.</param>
    /// <param name="until">When the claim expires.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The outcome.</returns>
    Task<ConfirmationClaim> TryClaimConfirmationAsync(string orderId, string owner, string messageId, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Records that the confirmation was sent (the claim becomes permanent).</summary>
    /// <param name="orderId">The order.</param>
    /// <param name="owner">The claim's owner.</param>
    /// <param name="sentAt">When it was sent.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when recorded.</returns>
    Task MarkConfirmationSentAsync(string orderId, string owner, DateTimeOffset sentAt, CancellationToken cancellationToken);

    /// <summary>Gives a claim up after a failed send, so a later delivery (or another consumer) sends.</summary>
    /// <param name="orderId">The order.</param>
    /// <param name="owner">The claim's owner.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when released.</returns>
    Task ReleaseConfirmationClaimAsync(string orderId, string owner, CancellationToken cancellationToken);
}

/// <summary>The embedded default: the status table in memory (lost on restart, like the embedded stream).</summary>
public sealed class InMemoryOrderStatusStore : IOrderStatusStore
{
    private readonly ConcurrentDictionary<string, Row> _rows = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Location => "in-memory status table";

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<bool> ApplyAsync(OrderEvent order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var row = _rows.GetOrAdd(order.OrderId, static _ => new Row());
        lock (row)
        {
            if (row.Order is not null && row.Order.Version >= order.Version)
            {
                return Task.FromResult(false);
            }

            row.Order = order;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<OrderView?> GetAsync(string orderId, CancellationToken cancellationToken) =>
        Task.FromResult(_rows.TryGetValue(orderId, out var row) ? View(row) : null);

    /// <inheritdoc />
    public Task<IReadOnlyList<OrderView>> ListByCustomerAsync(string customerId, int limit, CancellationToken cancellationToken)
    {
        IReadOnlyList<OrderView> list = _rows.Values.Select(View).Where(v => v is not null && v.CustomerId == customerId)
            .OrderBy(v => v!.OrderId, StringComparer.Ordinal).Take(limit).ToArray()!;
        return Task.FromResult(list);
    }

    /// <inheritdoc />
    public Task<ConfirmationClaim> TryClaimConfirmationAsync(string orderId, string owner, string messageId, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var row = _rows.GetOrAdd(orderId, static _ => new Row());
        lock (row)
        {
            if (row.SentAt is not null)
            {
                return Task.FromResult(ConfirmationClaim.AlreadySent);
            }

            if (row.ClaimOwner is not null && row.ClaimOwner != owner && row.ClaimUntil >= now)
            {
                return Task.FromResult(ConfirmationClaim.HeldByOther);
            }

            (row.ClaimOwner, row.ClaimUntil, row.MessageId) = (owner, until, messageId);
            return Task.FromResult(ConfirmationClaim.Claimed);
        }
    }

    /// <inheritdoc />
    public Task MarkConfirmationSentAsync(string orderId, string owner, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        var row = _rows.GetOrAdd(orderId, static _ => new Row());
        lock (row)
        {
            if (row.ClaimOwner == owner)
            {
                row.SentAt = sentAt;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ReleaseConfirmationClaimAsync(string orderId, string owner, CancellationToken cancellationToken)
    {
        if (_rows.TryGetValue(orderId, out var row))
        {
            lock (row)
            {
                if (row.ClaimOwner == owner && row.SentAt is null)
                {
                    (row.ClaimOwner, row.ClaimUntil) = (null, default);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static OrderView? View(Row row)
    {
        lock (row)
        {
            var o = row.Order;
            return o is null ? null : new OrderView(o.OrderId, o.CustomerId, o.Email, o.Status, o.Version, o.Amount, o.Items, o.Time, row.SentAt, row.MessageId);
        }
    }

    private sealed class Row
    {
        public OrderEvent? Order { get; set; }

        public string? ClaimOwner { get; set; }

        public DateTimeOffset ClaimUntil { get; set; }

        public string? MessageId { get; set; }

        public DateTimeOffset? SentAt { get; set; }
    }
}

/// <summary>Creates the status table (when missing) before the API starts listening, so no request meets a missing table.</summary>
/// <param name="store">The store.</param>
public sealed class OrderStatusStoreInitializer(IOrderStatusStore store) : IHostedService
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
