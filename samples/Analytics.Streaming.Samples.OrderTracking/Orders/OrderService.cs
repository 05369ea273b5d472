using System.Collections.Concurrent;
using Analytics.Streaming.Samples.OrderTracking.Processing;

namespace Analytics.Streaming.Samples.OrderTracking.Orders;

/// <summary>What became of a command.</summary>
public enum CommandOutcome
{
    /// <summary>A new event was published.</summary>
    Published,

    /// <summary>Nothing to do: the order already is in that state (a retried request).</summary>
    Unchanged,

    /// <summary>No such order.</summary>
    NotFound,

    /// <summary>The lifecycle does not allow it, or the order id is taken by another order.</summary>
    Conflict,
}

/// <summary>The result of a command.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Order">The order's latest event (the published one, or the current one).</param>
/// <param name="Reason">Why it was refused, for the problem's detail.</param>
public sealed record CommandResult(CommandOutcome Outcome, OrderEvent? Order, string? Reason = null);

/// <summary>
/// The command side of the API: checks each command against the order's latest state, gives the next event the
/// next version, and publishes it to the stream before answering. Commands of one order are serialized (a lock
/// stripe per order id); the latest published event of each order is kept in memory and, for orders this process
/// has not seen (after a restart), read from the status table.
/// </summary>
/// <remarks>
/// One API instance assigns the versions of an order. With several instances, route an order's commands to one
/// of them, or replace the in-memory latest state with a conditional write on a version counter.
/// </remarks>
public sealed class OrderService(OrderStreams streams, IOrderStatusStore store, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, OrderEvent> _latest = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Places an order: publishes version 1 (<see cref="OrderStatus.Placed"/>). Placing the same order id again with the same content is answered with the existing order.</summary>
    /// <param name="request">The validated request.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The result.</returns>
    public async Task<CommandResult> PlaceAsync(PlaceOrder request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string orderId = request.OrderId ?? "o-" + Guid.NewGuid().ToString("N");
        var stripe = Stripe(orderId);
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await CurrentAsync(orderId, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                bool same = existing.CustomerId == request.CustomerId && existing.Email == request.Email && existing.Amount == request.Amount
                    && existing.Items.SequenceEqual(request.Items);
                return same
                    ? new CommandResult(CommandOutcome.Unchanged, existing)
                    : new CommandResult(CommandOutcome.Conflict, existing, $"Order id {orderId} is already used by another order.");
            }

            var placed = new OrderEvent(orderId, request.CustomerId, request.Email, 1, OrderStatus.Placed, time.GetUtcNow(), request.Items, request.Amount);
            await streams.PublishAsync(placed, cancellationToken).ConfigureAwait(false);
            _latest[orderId] = placed;
            return new CommandResult(CommandOutcome.Published, placed);
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>Moves an order to <paramref name="status"/>: publishes the next version if the lifecycle allows it.</summary>
    /// <param name="orderId">The order.</param>
    /// <param name="status">The requested status.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The result.</returns>
    public async Task<CommandResult> ChangeStatusAsync(string orderId, OrderStatus status, CancellationToken cancellationToken)
    {
        var stripe = Stripe(orderId);
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await CurrentAsync(orderId, cancellationToken).ConfigureAwait(false) is not { } current)
            {
                return new CommandResult(CommandOutcome.NotFound, null, $"No order {orderId}.");
            }

            if (current.Status == status)
            {
                return new CommandResult(CommandOutcome.Unchanged, current);
            }

            if (!OrderLifecycle.CanMove(current.Status, status))
            {
                var next = OrderLifecycle.Next(current.Status);
                return new CommandResult(
                    CommandOutcome.Conflict,
                    current,
                    $"Order {orderId} is {current.Status}; it can move to {(next.Count == 0 ? "nothing (final)" : string.Join(" or ", next))}, not {status}.");
            }

            var changed = current with { Version = current.Version + 1, Status = status, Time = time.GetUtcNow() };
            await streams.PublishAsync(changed, cancellationToken).ConfigureAwait(false);
            _latest[orderId] = changed;
            return new CommandResult(CommandOutcome.Published, changed);
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>The latest event this process published for an order, if any (the table may not have it yet).</summary>
    /// <param name="orderId">The order.</param>
    /// <returns>The event, or <see langword="null"/>.</returns>
    public OrderEvent? Published(string orderId) => _latest.TryGetValue(orderId, out var e) ? e : null;

    private async Task<OrderEvent?> CurrentAsync(string orderId, CancellationToken cancellationToken)
    {
        if (_latest.TryGetValue(orderId, out var latest))
        {
            return latest;
        }

        var stored = await store.GetAsync(orderId, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : new OrderEvent(stored.OrderId, stored.CustomerId, stored.Email, stored.Version, stored.Status, stored.UpdatedAt, stored.Items, stored.Amount);
    }

    private SemaphoreSlim Stripe(string orderId) => _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(orderId) % (uint)_stripes.Length)];
}
