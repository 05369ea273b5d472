using System.Reactive.Linq;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Benchmarks.Queries.Nexmark;

/// <summary>Constants of the Nexmark queries as benchmarked here.</summary>
public static class NexmarkQuery
{
    /// <summary>Q1's dollar to euro conversion: price x 89 / 100, in integer cents (as the Beam suite computes it).</summary>
    /// <param name="cents">The price in dollar cents.</param>
    /// <returns>The price in euro cents.</returns>
    public static long ToEuro(long cents) => cents * 89 / 100;

    /// <summary>Q2's auction filter: auction ids divisible by 123 (the Beam suite's <c>auctionSkip</c> default).</summary>
    public const long AuctionSkip = 123;

    /// <summary>Q5's window size.</summary>
    public const long HotItemsSizeMs = 10_000;

    /// <summary>Q5's slide.</summary>
    public const long HotItemsSlideMs = 2_000;

    /// <summary>Q7's tumbling window.</summary>
    public const long WindowMs = 10_000;
}

/// <summary>
/// The Nexmark queries as a user writes them with the library's public builder. Q1 and Q2 are pipelines without windows
/// (<c>PerEvent()</c>): each converted or kept bid is a result of its own. A variant with struct selectors adds methods here.
/// </summary>
public static class NexmarkPipelines
{
    private static readonly TimeSpan Tumbling = TimeSpan.FromMilliseconds(NexmarkQuery.WindowMs);

    /// <summary>Q1 (currency conversion): every bid with its price in euro cents, one result per bid.</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the euro prices.</returns>
    public static IQueryRunner Q1(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, StreamPosition, Bid>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind == NexmarkKind.Bid)
                .Select(e => e.Bid with { Price = NexmarkQuery.ToEuro(e.Bid.Price) })
                .PerEvent()
                .To(Sinks.Discard<WindowResult<StreamPosition, Bid>>())
                .Build(),
            bid => bid.Price);

    /// <summary>Q2 (selection): (auction, price) of the bids on every 123rd auction, one result per kept bid.</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the kept prices.</returns>
    public static IQueryRunner Q2(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, StreamPosition, (long Auction, long Price)>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind == NexmarkKind.Bid && e.Bid.Auction % NexmarkQuery.AuctionSkip == 0)
                .Select(e => (e.Bid.Auction, e.Bid.Price))
                .PerEvent()
                .To(Sinks.Discard<WindowResult<StreamPosition, (long Auction, long Price)>>())
                .Build(),
            bid => bid.Price);

    /// <summary>
    /// Q5 (hot items): bids per auction over 10-second windows sliding every 2 s, then, fed by those windows, the
    /// auction with the most bids per window (<c>MaxBy</c>; a tie keeps the earliest result).
    /// </summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the maximum counts.</returns>
    public static IQueryRunner Q5(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, GlobalKey, Extreme<long, long>>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind == NexmarkKind.Bid)
                .KeyBy(e => e.Bid.Auction)
                .Window(WindowSpec.Sliding(TimeSpan.FromMilliseconds(NexmarkQuery.HotItemsSizeMs), TimeSpan.FromMilliseconds(NexmarkQuery.HotItemsSlideMs)))
                .Aggregate(a => a.Count())
                .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(NexmarkQuery.HotItemsSlideMs)))
                .Aggregate(a => a.MaxBy(r => r.Value, r => r.Key))
                .To(Sinks.Discard<WindowResult<GlobalKey, Extreme<long, long>>>())
                .Build(),
            max => max.Value);

    /// <summary>Q7 (highest bid) with the exact 64-bit <c>Max</c>.</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the maxima.</returns>
    public static IQueryRunner Q7Max(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, GlobalKey, long>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind == NexmarkKind.Bid)
                .Window(WindowSpec.Tumbling(Tumbling))
                .Aggregate(a => a.Max(e => e.Bid.Price))
                .To(Sinks.Discard<WindowResult<GlobalKey, long>>())
                .Build(),
            max => max);

    /// <summary>Q7 (highest bid) with <c>MaxBy</c>, keeping the winning bid (what Q7 outputs).</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the maxima.</returns>
    public static IQueryRunner Q7MaxBy(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, GlobalKey, Extreme<long, Bid>>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind == NexmarkKind.Bid)
                .Window(WindowSpec.Tumbling(Tumbling))
                .Aggregate(a => a.MaxBy(e => e.Bid.Price, e => e.Bid))
                .To(Sinks.Discard<WindowResult<GlobalKey, Extreme<long, Bid>>>())
                .Build(),
            max => max.Value);
    /// <summary>
    /// Q8 (monitor new users): the persons who registered and opened an auction as its seller in the same 10-second
    /// tumbling window, one result per person and window. The window join is one keyed window over both sides: persons
    /// keyed by their id, auctions by their seller, and an aggregator that keeps each side (<see cref="NewSellerJoin"/>);
    /// the persons without an auction of theirs are filtered out after the window.
    /// </summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the person ids.</returns>
    public static IQueryRunner Q8(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, long, NewSeller>(
            pass,
            clock => StreamPipeline.Create<NexmarkEvent>()
                .WithEventTime(e => clock.OffsetMs + e.TimeMs)
                .Where(e => e.Kind != NexmarkKind.Bid)
                .KeyBy(e => e.Kind == NexmarkKind.Person ? e.Person!.Id : e.Auction!.Seller)
                .Window(WindowSpec.Tumbling(Tumbling))
                .Aggregate(_ => Aggregates.Custom<NexmarkEvent, NewSellerJoin, NewSeller, NewSeller>(default))
                .Where(r => r.Value.IsMatch)
                .To(Sinks.Discard<WindowResult<long, NewSeller>>())
                .Build(),
            seller => seller.Id);
}

/// <summary>A Q8 result: a person who opened an auction in the window they registered in (or, as an accumulator, what was seen of one so far).</summary>
/// <param name="Id">The person id; 0 until the person was seen.</param>
/// <param name="Name">The person's name; null until the person was seen.</param>
/// <param name="Sold">Whether an auction of theirs was seen.</param>
public readonly record struct NewSeller(long Id, string? Name, bool Sold)
{
    /// <summary>Gets a value indicating whether both sides of the join were seen.</summary>
    public bool IsMatch => Name is not null && Sold;
}

/// <summary>Q8's two-sided window join as an aggregator: a person sets the person's side, an auction the seller's.</summary>
public readonly struct NewSellerJoin : IAggregator<NexmarkEvent, NewSeller, NewSeller>
{
    /// <inheritdoc />
    public NewSeller CreateAccumulator() => default;

    /// <inheritdoc />
    public void Add(ref NewSeller accumulator, in NexmarkEvent input)
        => accumulator = input.Person is { } person
            ? accumulator with { Id = person.Id, Name = person.Name }
            : accumulator with { Sold = true };

    /// <inheritdoc />
    public void Merge(ref NewSeller accumulator, in NewSeller other)
        => accumulator = new NewSeller(
            other.Name is null ? accumulator.Id : other.Id,
            other.Name ?? accumulator.Name,
            accumulator.Sold || other.Sold);

    /// <inheritdoc />
    public NewSeller GetResult(in NewSeller accumulator) => accumulator;
}

/// <summary>
/// The Nexmark queries with static selectors (<see cref="IEventFilter{TEvent}"/>, <see cref="IUnixTimeSelector{TEvent}"/>)
/// and a struct aggregator: what a user writes for the hottest pipelines, with no delegate call per event. The pass
/// clock is read through a static field, so only one such runner may run at a time.
/// </summary>
public static class NexmarkStaticPipelines
{
    private static PassClock s_clock = new(0);

    /// <summary>Q7 (highest bid) with static selectors.</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the maxima.</returns>
    public static IQueryRunner Q7Max(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, GlobalKey, long>(
            pass,
            clock =>
            {
                s_clock = clock;
                return StreamPipeline.Create<NexmarkEvent>()
                    .Where<IsBid>()
                    .WithEventTime<EventTime>()
                    .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(NexmarkQuery.WindowMs)))
                    .Aggregate(_ => Aggregates.Custom<NexmarkEvent, HighestPrice, long, long>(default))
                    .To(Sinks.Discard<WindowResult<GlobalKey, long>>())
                    .Build();
            },
            max => max);

    /// <summary>Q8 (monitor new users) with static selectors: the same window join as <see cref="NexmarkPipelines.Q8"/>.</summary>
    /// <param name="pass">The events.</param>
    /// <returns>The runner; its checksum is the sum of the person ids.</returns>
    public static IQueryRunner Q8(PassData<NexmarkEvent> pass)
        => new LibraryRunner<NexmarkEvent, long, NewSeller>(
            pass,
            clock =>
            {
                s_clock = clock;
                return StreamPipeline.Create<NexmarkEvent>()
                    .Where<IsPersonOrAuction>()
                    .WithEventTime<EventTime>()
                    .KeyBy<PersonOrSeller, long>()
                    .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(NexmarkQuery.WindowMs)))
                    .Aggregate(_ => Aggregates.Custom<NexmarkEvent, NewSellerJoin, NewSeller, NewSeller>(default))
                    .Where(r => r.Value.IsMatch)
                    .To(Sinks.Discard<WindowResult<long, NewSeller>>())
                    .Build();
            },
            seller => seller.Id);

    private readonly struct IsPersonOrAuction : IEventFilter<NexmarkEvent>
    {
        public static bool Keep(in NexmarkEvent value) => value.Kind != NexmarkKind.Bid;
    }

    private readonly struct PersonOrSeller : IKeySelector<NexmarkEvent, long>
    {
        public static long Select(in NexmarkEvent value) => value.Kind == NexmarkKind.Person ? value.Person!.Id : value.Auction!.Seller;
    }

    private readonly struct IsBid : IEventFilter<NexmarkEvent>
    {
        public static bool Keep(in NexmarkEvent value) => value.Kind == NexmarkKind.Bid;
    }

    private readonly struct EventTime : IUnixTimeSelector<NexmarkEvent>
    {
        public static long Select(in NexmarkEvent value) => s_clock.OffsetMs + value.TimeMs;
    }

    private readonly struct HighestPrice : IAggregator<NexmarkEvent, long, long>
    {
        public long CreateAccumulator() => long.MinValue;

        public void Add(ref long accumulator, in NexmarkEvent input) => accumulator = Math.Max(accumulator, input.Bid.Price);

        public void Merge(ref long accumulator, in long other) => accumulator = Math.Max(accumulator, other);

        public long GetResult(in long accumulator) => accumulator;
    }
}

/// <summary>What hand-written map and filter queries deliver to: a reused buffer handed on when full (a sink's batch).</summary>
/// <typeparam name="T">The output type.</typeparam>
public sealed class OutputBuffer<T>
{
    private readonly T[] _buffer = new T[1000];
    private int _count;

    /// <summary>Gets the records handed on so far.</summary>
    public long Delivered { get; private set; }

    /// <summary>Adds a record.</summary>
    /// <param name="value">The record.</param>
    public void Add(in T value)
    {
        _buffer[_count++] = value;
        if (_count == _buffer.Length)
        {
            Flush();
        }
    }

    /// <summary>Hands on what is buffered.</summary>
    public void Flush()
    {
        Delivered += _count;
        _count = 0;
    }
}

/// <summary>Q1 by hand: a loop that converts each bid's price and writes it to the output buffer (map only, no window).</summary>
/// <param name="pass">The events.</param>
public sealed class Q1HandWritten(PassData<NexmarkEvent> pass) : IQueryRunner
{
    private readonly OutputBuffer<Bid> _output = new();

    /// <inheritdoc />
    public long Results => _output.Delivered;

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long checksum = 0;
        foreach (ref readonly var e in pass.Events.AsSpan())
        {
            if (e.Kind == NexmarkKind.Bid)
            {
                var bid = e.Bid with { Price = NexmarkQuery.ToEuro(e.Bid.Price) };
                _output.Add(bid);
                checksum += bid.Price;
            }
        }

        Checksum += checksum;
    }

    /// <inheritdoc />
    public void Finish() => _output.Flush();
}

/// <summary>Q2 by hand: a loop that keeps bids on every 123rd auction and writes (auction, price) to the output buffer.</summary>
/// <param name="pass">The events.</param>
public sealed class Q2HandWritten(PassData<NexmarkEvent> pass) : IQueryRunner
{
    private readonly OutputBuffer<(long Auction, long Price)> _output = new();

    /// <inheritdoc />
    public long Results => _output.Delivered;

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long checksum = 0;
        foreach (ref readonly var e in pass.Events.AsSpan())
        {
            if (e.Kind == NexmarkKind.Bid && e.Bid.Auction % NexmarkQuery.AuctionSkip == 0)
            {
                _output.Add((e.Bid.Auction, e.Bid.Price));
                checksum += e.Bid.Price;
            }
        }

        Checksum += checksum;
    }

    /// <inheritdoc />
    public void Finish() => _output.Flush();
}

/// <summary>
/// Q5 by hand: per auction a ring of the five 2-second slices a window covers (dictionary by auction id); when the
/// watermark passes a window end, sum each auction's slices inside it, keep the maximum, drop auctions with no slice
/// in later windows.
/// </summary>
/// <param name="pass">The events.</param>
public sealed class Q5HandWritten(PassData<NexmarkEvent> pass) : IQueryRunner
{
    private const int SlicesPerWindow = (int)(NexmarkQuery.HotItemsSizeMs / NexmarkQuery.HotItemsSlideMs);
    private readonly PassClock _clock = new(pass.PassMs);
    private readonly Dictionary<long, AuctionSlices> _auctions = [];
    private readonly Stack<AuctionSlices> _pool = new();
    private long _maxSlice = long.MinValue;
    private long _nextEndSlice;
    private bool _started;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (ref readonly var e in pass.Events.AsSpan())
        {
            if (e.Kind != NexmarkKind.Bid)
            {
                continue;
            }

            long slice = (offset + e.TimeMs) / NexmarkQuery.HotItemsSlideMs;
            if (_started && slice < _nextEndSlice - SlicesPerWindow)
            {
                continue; // late: every window holding it was emitted
            }

            ref var state = ref CollectionsMarshal.GetValueRefOrAddDefault(_auctions, e.Bid.Auction, out bool exists);
            if (!exists)
            {
                state = _pool.Count > 0 ? _pool.Pop() : new AuctionSlices();
            }

            state!.Add(slice);
            if (slice > _maxSlice)
            {
                if (!_started)
                {
                    _started = true;
                    _nextEndSlice = slice + 1;
                }

                _maxSlice = slice;

                // In-order stream: the watermark is the largest event time; windows ending at or before it close.
                EmitUpTo(offset + e.TimeMs);
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => EmitUpTo(long.MaxValue);

    private void EmitUpTo(long watermarkMs)
    {
        long lastEnd = _maxSlice + SlicesPerWindow;
        while (_nextEndSlice <= lastEnd && _nextEndSlice * NexmarkQuery.HotItemsSlideMs <= watermarkMs)
        {
            long end = _nextEndSlice++;
            long max = 0;
            foreach (var (auction, state) in _auctions)
            {
                long count = state.CountIn(end - SlicesPerWindow, end);
                if (count > max)
                {
                    max = count;
                }

                if (state.Last < end - SlicesPerWindow + 1)
                {
                    state.Reset();
                    _pool.Push(state);
                    _auctions.Remove(auction);
                }
            }

            if (max > 0)
            {
                Results++;
                Checksum += max;
            }
        }
    }

    private sealed class AuctionSlices
    {
        private readonly long[] _ids = [-1, -1, -1, -1, -1];
        private readonly long[] _counts = new long[SlicesPerWindow];

        public long Last { get; private set; } = long.MinValue;

        public void Add(long slice)
        {
            int slot = (int)(slice % SlicesPerWindow);
            if (_ids[slot] != slice)
            {
                _ids[slot] = slice;
                _counts[slot] = 0;
            }

            _counts[slot]++;
            if (slice > Last)
            {
                Last = slice;
            }
        }

        public long CountIn(long from, long to)
        {
            long sum = 0;
            for (int i = 0; i < SlicesPerWindow; i++)
            {
                if (_ids[i] >= from && _ids[i] < to)
                {
                    sum += _counts[i];
                }
            }

            return sum;
        }

        public void Reset()
        {
            _ids.AsSpan().Fill(-1);
            Last = long.MinValue;
        }
    }
}

/// <summary>Q7 by hand: the largest price per open 10-second window.</summary>
/// <param name="pass">The events.</param>
public sealed class Q7HandWritten(PassData<NexmarkEvent> pass) : IQueryRunner
{
    private readonly PassClock _clock = new(pass.PassMs);
    private long _start = long.MinValue;
    private long _max = long.MinValue;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (ref readonly var e in pass.Events.AsSpan())
        {
            if (e.Kind != NexmarkKind.Bid)
            {
                continue;
            }

            long time = offset + e.TimeMs;
            long start = time - (time % NexmarkQuery.WindowMs);
            if (start != _start)
            {
                // In-order stream: a new window means the previous one is complete.
                if (start < _start)
                {
                    continue; // late
                }

                Finish();
                _start = start;
            }

            if (e.Bid.Price > _max)
            {
                _max = e.Bid.Price;
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish()
    {
        if (_max != long.MinValue)
        {
            Results++;
            Checksum += _max;
            _max = long.MinValue;
        }
    }
}

/// <summary>
/// Q8 by hand: the persons and sellers of the open 10-second window in a dictionary by person id; when an event of a
/// later window arrives (in-order stream), the persons who also sold are the results and the dictionary is cleared.
/// </summary>
/// <param name="pass">The events.</param>
public sealed class Q8HandWritten(PassData<NexmarkEvent> pass) : IQueryRunner
{
    private readonly PassClock _clock = new(pass.PassMs);
    private readonly Dictionary<long, NewSeller> _window = [];
    private long _start = long.MinValue;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (ref readonly var e in pass.Events.AsSpan())
        {
            if (e.Kind == NexmarkKind.Bid)
            {
                continue;
            }

            long time = offset + e.TimeMs;
            long start = time - (time % NexmarkQuery.WindowMs);
            if (start != _start)
            {
                if (start < _start)
                {
                    continue; // late
                }

                Finish();
                _start = start;
            }

            if (e.Person is { } person)
            {
                ref var seen = ref CollectionsMarshal.GetValueRefOrAddDefault(_window, person.Id, out _);
                seen = seen with { Id = person.Id, Name = person.Name };
            }
            else
            {
                ref var seen = ref CollectionsMarshal.GetValueRefOrAddDefault(_window, e.Auction!.Seller, out _);
                seen = seen with { Sold = true };
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish()
    {
        foreach (var seen in _window.Values)
        {
            if (seen.IsMatch)
            {
                Results++;
                Checksum += seen.Id;
            }
        }

        _window.Clear();
    }
}

/// <summary>Q1 in Rx.NET 6: Where, Select, Subscribe.</summary>
public sealed class Q1Reactive : ReactiveRunner<NexmarkEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The events.</param>
    public Q1Reactive(PassData<NexmarkEvent> pass)
        : base(pass, NexmarkQuery.WindowMs, 0)
        => Subscribe(Events
            .Where(e => e.Kind == NexmarkKind.Bid)
            .Select(e => e.Bid with { Price = NexmarkQuery.ToEuro(e.Bid.Price) })
            .Subscribe(b =>
            {
                Results++;
                Checksum += b.Price;
            }));

    /// <inheritdoc />
    protected override long TimeOf(in NexmarkEvent e) => e.TimeMs;
}

/// <summary>Q2 in Rx.NET 6: Where, Select, Subscribe.</summary>
public sealed class Q2Reactive : ReactiveRunner<NexmarkEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The events.</param>
    public Q2Reactive(PassData<NexmarkEvent> pass)
        : base(pass, NexmarkQuery.WindowMs, 0)
        => Subscribe(Events
            .Where(e => e.Kind == NexmarkKind.Bid && e.Bid.Auction % NexmarkQuery.AuctionSkip == 0)
            .Select(e => (e.Bid.Auction, e.Bid.Price))
            .Subscribe(b =>
            {
                Results++;
                Checksum += b.Price;
            }));

    /// <inheritdoc />
    protected override long TimeOf(in NexmarkEvent e) => e.TimeMs;
}

/// <summary>
/// Q5 in Rx.NET 6: each bid into the five sliding windows holding it (SelectMany), GroupByUntil window (ended by the
/// watermark), inside each window GroupBy auction and Count, then Max of the counts.
/// </summary>
public sealed class Q5Reactive : ReactiveRunner<NexmarkEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The events.</param>
    public Q5Reactive(PassData<NexmarkEvent> pass)
        : base(pass, NexmarkQuery.HotItemsSlideMs, 0)
    {
        var clock = Clock;
        Subscribe(Events
            .Where(e => e.Kind == NexmarkKind.Bid)
            .SelectMany(e => WindowsOf(clock.OffsetMs + e.TimeMs, e.Bid.Auction))
            .GroupByUntil(w => w.Start, g => Until(g.Key + NexmarkQuery.HotItemsSizeMs))
            .SelectMany(window => window.GroupBy(w => w.Auction).SelectMany(auction => auction.LongCount()).Max())
            .Subscribe(max =>
            {
                Results++;
                Checksum += max;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in NexmarkEvent e) => e.TimeMs;

    private static (long Start, long Auction)[] WindowsOf(long time, long auction)
    {
        const int Count = (int)(NexmarkQuery.HotItemsSizeMs / NexmarkQuery.HotItemsSlideMs);
        var windows = new (long Start, long Auction)[Count];
        long last = time - (time % NexmarkQuery.HotItemsSlideMs);
        for (int i = 0; i < Count; i++)
        {
            windows[i] = (last - (i * NexmarkQuery.HotItemsSlideMs), auction);
        }

        return windows;
    }
}

/// <summary>Q7 in Rx.NET 6: Where, GroupByUntil window, Max of the prices.</summary>
public sealed class Q7Reactive : ReactiveRunner<NexmarkEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The events.</param>
    public Q7Reactive(PassData<NexmarkEvent> pass)
        : base(pass, NexmarkQuery.WindowMs, 0)
    {
        var clock = Clock;
        Subscribe(Events
            .Where(e => e.Kind == NexmarkKind.Bid)
            .GroupByUntil(e => (clock.OffsetMs + e.TimeMs) / NexmarkQuery.WindowMs * NexmarkQuery.WindowMs, g => Until(g.Key + NexmarkQuery.WindowMs))
            .SelectMany(window => window.Max(e => e.Bid.Price))
            .Subscribe(max =>
            {
                Results++;
                Checksum += max;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in NexmarkEvent e) => e.TimeMs;
}

/// <summary>
/// Q8 in Rx.NET 6: persons and auctions, GroupByUntil window, inside each window GroupBy person id (the seller for an
/// auction), each group aggregated into both sides of the join, the matches kept.
/// </summary>
public sealed class Q8Reactive : ReactiveRunner<NexmarkEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="pass">The events.</param>
    public Q8Reactive(PassData<NexmarkEvent> pass)
        : base(pass, NexmarkQuery.WindowMs, 0)
    {
        var clock = Clock;
        var join = default(NewSellerJoin);
        Subscribe(Events
            .Where(e => e.Kind != NexmarkKind.Bid)
            .GroupByUntil(e => (clock.OffsetMs + e.TimeMs) / NexmarkQuery.WindowMs * NexmarkQuery.WindowMs, g => Until(g.Key + NexmarkQuery.WindowMs))
            .SelectMany(window => window
                .GroupBy(e => e.Kind == NexmarkKind.Person ? e.Person!.Id : e.Auction!.Seller)
                .SelectMany(person => person.Aggregate(default(NewSeller), (seen, e) =>
                {
                    join.Add(ref seen, e);
                    return seen;
                }))
                .Where(seen => seen.IsMatch))
            .Subscribe(seen =>
            {
                Results++;
                Checksum += seen.Id;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in NexmarkEvent e) => e.TimeMs;
}
