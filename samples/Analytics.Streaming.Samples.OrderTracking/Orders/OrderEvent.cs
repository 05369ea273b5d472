using System.Text.Json;
using System.Text.Json.Serialization;
using Analytics.Streaming.Samples.OrderTracking.Processing;

namespace Analytics.Streaming.Samples.OrderTracking.Orders;

/// <summary>The lifecycle of an order: <c>Placed -&gt; Confirmed -&gt; Shipped -&gt; Delivered</c>, or <c>Cancelled</c> before shipping.</summary>
public enum OrderStatus
{
    /// <summary>The customer placed the order.</summary>
    Placed,

    /// <summary>The shop accepted it.</summary>
    Confirmed,

    /// <summary>It left the warehouse.</summary>
    Shipped,

    /// <summary>The customer received it (final).</summary>
    Delivered,

    /// <summary>It was cancelled before shipping (final).</summary>
    Cancelled,
}

/// <summary>One line of an order.</summary>
/// <param name="Sku">The article's stock-keeping unit.</param>
/// <param name="Quantity">How many (1 or more).</param>
/// <param name="UnitPrice">The price of one (0 or more).</param>
public sealed record OrderItem(string Sku, int Quantity, decimal UnitPrice);

/// <summary>
/// An order event on the stream: the order's state after a change. Events of one order carry increasing
/// <paramref name="Version"/>s (1 for <see cref="OrderStatus.Placed"/>), so a consumer keeps the highest version and
/// ignores a redelivered (equal) or reordered (lower) one. Every event carries the whole order (customer, e-mail
/// address, items, amount), so whichever version arrives first can create the order's row.
/// </summary>
/// <param name="OrderId">The order id (partition key on Kinesis, so one order's events stay in order on one shard).</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Email">Where the confirmation goes.</param>
/// <param name="Version">Monotonic per order, from 1.</param>
/// <param name="Status">The order's status after this event.</param>
/// <param name="Time">When the change happened (the analytics' event time).</param>
/// <param name="Items">The order's lines.</param>
/// <param name="Amount">The order's total (sum of quantity times unit price).</param>
public sealed record OrderEvent(
    string OrderId,
    string CustomerId,
    string Email,
    long Version,
    OrderStatus Status,
    DateTimeOffset Time,
    IReadOnlyList<OrderItem> Items,
    decimal Amount);

/// <summary>An order as the status table holds it.</summary>
/// <param name="OrderId">The order id.</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Email">The e-mail address.</param>
/// <param name="Status">The status of the highest version stored.</param>
/// <param name="Version">The highest version stored.</param>
/// <param name="Amount">The total.</param>
/// <param name="Items">The lines.</param>
/// <param name="UpdatedAt">The time of the stored version's event.</param>
/// <param name="ConfirmationSentAt">When the confirmation e-mail was sent, if it was.</param>
/// <param name="ConfirmationMessageId">The confirmation's Message-Id, once claimed or sent.</param>
public sealed record OrderView(
    string OrderId,
    string CustomerId,
    string Email,
    OrderStatus Status,
    long Version,
    decimal Amount,
    IReadOnlyList<OrderItem> Items,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ConfirmationSentAt,
    string? ConfirmationMessageId);

/// <summary>The order lifecycle's rules.</summary>
public static class OrderLifecycle
{
    /// <summary>Whether an order may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="from">The current status.</param>
    /// <param name="to">The requested status.</param>
    /// <returns>True for the forward steps and for cancelling before shipping.</returns>
    public static bool CanMove(OrderStatus from, OrderStatus to) => (from, to) switch
    {
        (OrderStatus.Placed, OrderStatus.Confirmed) => true,
        (OrderStatus.Confirmed, OrderStatus.Shipped) => true,
        (OrderStatus.Shipped, OrderStatus.Delivered) => true,
        (OrderStatus.Placed or OrderStatus.Confirmed, OrderStatus.Cancelled) => true,
        _ => false,
    };

    /// <summary>The statuses an order may move to from <paramref name="from"/>.</summary>
    /// <param name="from">The current status.</param>
    /// <returns>The allowed next statuses (empty for a final status).</returns>
    public static IReadOnlyList<OrderStatus> Next(OrderStatus from) => Enum.GetValues<OrderStatus>().Where(s => CanMove(from, s)).ToArray();
}

/// <summary>Source-generated JSON for order events (on the stream) and the API's answers.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(OrderEvent))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(IReadOnlyList<OrderView>))]
[JsonSerializable(typeof(IReadOnlyList<OrderItem>))]
[JsonSerializable(typeof(OrderAccepted))]
[JsonSerializable(typeof(CustomerOrders))]
[JsonSerializable(typeof(LiveSnapshot))]
public sealed partial class OrderJson : JsonSerializerContext;

/// <summary>The answer to a placed order or an accepted status change.</summary>
/// <param name="OrderId">The order id.</param>
/// <param name="Status">The status the published event carries.</param>
/// <param name="Version">The published event's version.</param>
/// <param name="Amount">The order's total.</param>
/// <param name="Location">Where to read the order's status.</param>
public sealed record OrderAccepted(string OrderId, OrderStatus Status, long Version, decimal Amount, string Location);

/// <summary>A customer's orders, newest version of each.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Orders">The orders.</param>
public sealed record CustomerOrders(string CustomerId, IReadOnlyList<OrderView> Orders);
