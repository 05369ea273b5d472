using System.Reactive.Linq;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.Orders;

/// <summary>A line of an order: a menu item and how many of it.</summary>
/// <param name="Item">The menu item.</param>
/// <param name="Quantity">How many.</param>
public readonly record struct OrderLine(int Item, int Quantity);

/// <summary>A restaurant order: when it was placed (relative to its pass) and its lines.</summary>
/// <param name="TimeMs">The order time in milliseconds from the pass start.</param>
/// <param name="Lines">The lines (one to five).</param>
public sealed record Order(long TimeMs, OrderLine[] Lines);

/// <summary>
/// Generated orders: 200,000 per pass (10 s at 20,000 orders/s, in time order with up to 50 ms of disorder), one to
/// five lines each (three on average), items drawn from a skewed menu of 200 (a few dishes sell most).
/// </summary>
public static class OrderData
{
    /// <summary>Orders per pass (one benchmark operation).</summary>
    public const int OrdersPerPass = 200_000;

    /// <summary>Event time per pass.</summary>
    public const long PassMs = 10_000;

    /// <summary>The query's tumbling window.</summary>
    public const long WindowMs = 10_000;

    /// <summary>The allowed disorder.</summary>
    public const long OutOfOrdernessMs = 100;

    /// <summary>Generates one pass.</summary>
    /// <param name="seed">The random seed.</param>
    /// <returns>The pass.</returns>
    public static PassData<Order> Generate(int seed = 7)
    {
        var random = new Random(seed);
        var orders = new Order[OrdersPerPass];
        for (int i = 0; i < orders.Length; i++)
        {
            var lines = new OrderLine[1 + random.Next(5)];
            for (int j = 0; j < lines.Length; j++)
            {
                // Skewed: the square of a uniform draw favours the first dishes of the menu.
                double u = random.NextDouble();
                lines[j] = new OrderLine((int)(u * u * 200), 1 + random.Next(3));
            }

            orders[i] = new Order(Math.Max(0, (i * PassMs / OrdersPerPass) - random.Next(50)), lines);
        }

        return new PassData<Order>(orders, PassMs);
    }
}

/// <summary>
/// Menu-item popularity from orders, a flat-map in front of keyed windows: every order into its lines
/// (<c>SelectMany</c>), the quantity summed per item per 10-second tumbling window. Per order; baseline a hand-written
/// loop, also Rx.NET 6.
/// </summary>
[BenchmarkCategory("Queries", "Orders")]
public class OrderLinesBenchmarks
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;
    private ReactiveRunner<Order> _reactive = null!;

    /// <summary>Generates the data, checks that the three implementations agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var pass = OrderData.Generate();
        using (var rx = new OrderLinesReactive(pass))
        {
            QueryVerification.Verify("Order lines", 3, ("hand-written", new OrderLinesHandWritten(pass)), ("library", OrderLinesPipeline.Create(pass)), ("Rx.NET", rx));
        }

        _library = OrderLinesPipeline.Create(pass);
        _handWritten = new OrderLinesHandWritten(pass);
        _reactive = new OrderLinesReactive(pass);
    }

    /// <summary>Disposes the Rx subscription.</summary>
    [GlobalCleanup]
    public void Cleanup() => _reactive.Dispose();

    /// <summary>The hand-written loop (baseline).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = OrderData.OrdersPerPass)]
    public long HandWritten()
    {
        _handWritten.RunPass();
        return _handWritten.Results;
    }

    /// <summary>The library: the pipeline as a user writes it, driven through <c>CreateProcessor()</c>.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = OrderData.OrdersPerPass)]
    public long Library()
    {
        _library.RunPass();
        return _library.Results;
    }

    /// <summary>Rx.NET 6.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = OrderData.OrdersPerPass)]
    public long ReactiveExtensions()
    {
        _reactive.RunPass();
        return _reactive.Results;
    }
}

/// <summary>The query with the library's public builder.</summary>
public static class OrderLinesPipeline
{
    /// <summary>Creates the runner.</summary>
    /// <param name="pass">The orders.</param>
    /// <returns>The runner.</returns>
    public static IQueryRunner Create(PassData<Order> pass)
        => new LibraryRunner<Order, int, long>(
            pass,
            clock => StreamPipeline.Create<Order>()
                .WithEventTime(o => clock.OffsetMs + o.TimeMs, TimeSpan.FromMilliseconds(OrderData.OutOfOrdernessMs))
                .SelectMany(o => o.Lines)
                .KeyBy(l => l.Item)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(OrderData.WindowMs)))
                .Aggregate(a => a.Sum(l => (long)l.Quantity))
                .To(Sinks.Discard<WindowResult<int, long>>())
                .Build(),
            sum => sum);
}

/// <summary>
/// The query by hand: per open window an array of sums indexed by item (the menu is small and dense), the window of the
/// previous order cached, windows emitted when the watermark passes their end.
/// </summary>
/// <param name="pass">The orders.</param>
public sealed class OrderLinesHandWritten(PassData<Order> pass) : IQueryRunner
{
    private const int MenuSize = 200;
    private readonly Order[] _orders = pass.Events;
    private readonly PassClock _clock = new(pass.PassMs);
    private readonly List<(long Start, long[] Sums)> _open = [];
    private readonly Stack<long[]> _pool = new();
    private long[]? _current;
    private long _currentStart = long.MinValue;
    private long _maxMs = long.MinValue;
    private long _watermark = long.MinValue;
    private long _nextEnd = long.MinValue;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (var order in _orders)
        {
            long time = offset + order.TimeMs;
            long start = time - (time % OrderData.WindowMs);
            if (start + OrderData.WindowMs <= _watermark)
            {
                continue; // late
            }

            if (start != _currentStart)
            {
                _current = WindowFor(start);
                _currentStart = start;
            }

            var sums = _current!;
            foreach (var line in order.Lines)
            {
                sums[line.Item] += line.Quantity;
            }

            if (time > _maxMs)
            {
                _maxMs = time;
                if (time - OrderData.OutOfOrdernessMs >= _nextEnd)
                {
                    Close(time - OrderData.OutOfOrdernessMs);
                }
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => Close(long.MaxValue);

    private long[] WindowFor(long start)
    {
        foreach (var (s, sums) in CollectionsMarshal.AsSpan(_open))
        {
            if (s == start)
            {
                return sums;
            }
        }

        var created = _pool.Count > 0 ? _pool.Pop() : new long[MenuSize];
        _open.Add((start, created));
        return created;
    }

    private void Close(long watermark)
    {
        _watermark = watermark;
        _nextEnd = watermark == long.MaxValue ? long.MaxValue : watermark - (watermark % OrderData.WindowMs) + OrderData.WindowMs;
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            var (start, sums) = _open[i];
            if (start + OrderData.WindowMs > watermark)
            {
                continue;
            }

            foreach (long sum in sums)
            {
                if (sum != 0)
                {
                    Results++;
                    Checksum += sum;
                }
            }

            Array.Clear(sums);
            _pool.Push(sums);
            _open.RemoveAt(i);
            if (start == _currentStart)
            {
                _currentStart = long.MinValue;
                _current = null;
            }
        }
    }
}

/// <summary>The query in Rx.NET 6: SelectMany into lines, GroupByUntil window (ended by the watermark), inside each window GroupBy item and Sum.</summary>
public sealed class OrderLinesReactive : ReactiveRunner<Order>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The orders.</param>
    public OrderLinesReactive(PassData<Order> pass)
        : base(pass, OrderData.WindowMs, OrderData.OutOfOrdernessMs)
    {
        var clock = Clock;
        Subscribe(Events
            .SelectMany(o => o.Lines.Select(l => (TimeMs: clock.OffsetMs + o.TimeMs, Line: l)))
            .GroupByUntil(x => x.TimeMs - (x.TimeMs % OrderData.WindowMs), g => Until(g.Key + OrderData.WindowMs))
            .SelectMany(window => window.GroupBy(x => x.Line.Item).SelectMany(item => item.Sum(x => (long)x.Line.Quantity)))
            .Subscribe(sum =>
            {
                Results++;
                Checksum += sum;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in Order e) => e.TimeMs;
}
