using System.Buffers;

namespace Analytics.Streaming;

/// <summary>The extreme input of a window by some value, and what was kept of it (arg-max, arg-min, first, last).</summary>
/// <typeparam name="TBy">The compared value.</typeparam>
/// <typeparam name="TItem">What is kept of the input.</typeparam>
/// <param name="HasValue">Whether the window had any input.</param>
/// <param name="Value">The extreme value.</param>
/// <param name="Item">What was kept of the input that has it.</param>
public readonly record struct Extreme<TBy, TItem>(bool HasValue, TBy Value, TItem Item);

/// <summary>
/// Keeps the input with the largest (or smallest) value: arg-max and arg-min, first and last by time. On a tie the
/// smaller kept item wins when items have an order (numbers, strings compared ordinally, any <see cref="IComparable{T}"/>),
/// so the result does not depend on the order in which the inputs arrive, which a restart or the interleaving of
/// partitions changes. Items without an order keep the input held first.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TBy">The compared value.</typeparam>
/// <typeparam name="TItem">What is kept of the input.</typeparam>
/// <param name="by">Selects the compared value.</param>
/// <param name="keep">Selects what to keep.</param>
/// <param name="largest">Whether the largest value wins (arg-max) or the smallest (arg-min).</param>
public readonly struct ExtremeAggregator<TInput, TBy, TItem>(Func<TInput, TBy> by, Func<TInput, TItem> keep, bool largest)
    : IAggregator<TInput, Extreme<TBy, TItem>, Extreme<TBy, TItem>>, IPersistentAggregator<Extreme<TBy, TItem>>
{
    private readonly Func<TInput, TBy> _by = by ?? throw new ArgumentNullException(nameof(by));
    private readonly Func<TInput, TItem> _keep = keep ?? throw new ArgumentNullException(nameof(keep));

    /// <inheritdoc />
    /// <remarks>Saved when the built-in codecs cover both <typeparamref name="TBy"/> and <typeparamref name="TItem"/>.</remarks>
    public IStateCodec<Extreme<TBy, TItem>>? AccumulatorCodec
        => StateCodec.Default<TBy>() is { } value && StateCodec.Default<TItem>() is { } item ? new ExtremeCodec<TBy, TItem>(value, item) : null;

    /// <inheritdoc />
    public Extreme<TBy, TItem> CreateAccumulator() => default;

    /// <inheritdoc />
    public void Add(ref Extreme<TBy, TItem> accumulator, in TInput input)
    {
        TBy value = _by(input);
        int order = accumulator.HasValue ? Order(value, accumulator.Value) : 1;
        if (order > 0)
        {
            accumulator = new Extreme<TBy, TItem>(true, value, _keep(input));
        }
        else if (order == 0 && TieOrder<TItem>.Comparer is not null)
        {
            TItem item = _keep(input);
            if (TieOrder<TItem>.Precedes(item, accumulator.Item))
            {
                accumulator = new Extreme<TBy, TItem>(true, value, item);
            }
        }
    }

    /// <inheritdoc />
    public void Merge(ref Extreme<TBy, TItem> accumulator, in Extreme<TBy, TItem> other)
    {
        if (!other.HasValue)
        {
            return;
        }

        int order = accumulator.HasValue ? Order(other.Value, accumulator.Value) : 1;
        if (order > 0 || (order == 0 && TieOrder<TItem>.Precedes(other.Item, accumulator.Item)))
        {
            accumulator = other;
        }
    }

    /// <inheritdoc />
    public Extreme<TBy, TItem> GetResult(in Extreme<TBy, TItem> accumulator) => accumulator;

    /// <summary>Positive when <paramref name="candidate"/> beats <paramref name="held"/>, zero on a tie.</summary>
    private int Order(TBy candidate, TBy held)
        => largest ? Comparer<TBy>.Default.Compare(candidate, held) : Comparer<TBy>.Default.Compare(held, candidate);
}

/// <summary>
/// The order that breaks ties between inputs of equal compared value in the selecting aggregators: ordinal for strings,
/// the type's own for other comparable types, none for the rest (their ties keep the input held first).
/// </summary>
/// <typeparam name="T">The kept item's type.</typeparam>
internal static class TieOrder<T>
{
    /// <summary>The order, or <see langword="null"/> when <typeparamref name="T"/> has none.</summary>
    public static readonly IComparer<T>? Comparer =
        typeof(T) == typeof(string) ? (IComparer<T>)(object)StringComparer.Ordinal
        : typeof(IComparable<T>).IsAssignableFrom(typeof(T)) || typeof(IComparable).IsAssignableFrom(typeof(T)) ? Comparer<T>.Default
        : null;

    /// <summary>Whether <paramref name="candidate"/> goes before <paramref name="held"/> on a tie; never when the type has no order.</summary>
    public static bool Precedes(T candidate, T held) => Comparer is { } order && order.Compare(candidate, held) < 0;
}

/// <summary>Takes the largest 64-bit integer exactly (no rounding through <see cref="double"/>); <see cref="long.MinValue"/> when empty.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
/// <param name="largest">Whether it keeps the largest (max) or the smallest (min, <see cref="long.MaxValue"/> when empty).</param>
public readonly struct Int64ExtremumAggregator<TInput>(Func<TInput, long> selector, bool largest) : IAggregator<TInput, long, long>, IPersistentAggregator<long>
{
    private readonly Func<TInput, long> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public IStateCodec<long>? AccumulatorCodec => StateCodec.Int64;

    /// <inheritdoc />
    public long CreateAccumulator() => largest ? long.MinValue : long.MaxValue;

    /// <inheritdoc />
    public void Add(ref long accumulator, in TInput input) => Merge(ref accumulator, _selector(input));

    /// <inheritdoc />
    public void Merge(ref long accumulator, in long other)
    {
        if (largest ? other > accumulator : other < accumulator)
        {
            accumulator = other;
        }
    }

    /// <inheritdoc />
    public long GetResult(in long accumulator) => accumulator;
}

/// <summary>Takes the largest (or smallest) decimal exactly; <see cref="decimal.MinValue"/> (or <see cref="decimal.MaxValue"/>) when empty.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
/// <param name="largest">Whether it keeps the largest (max) or the smallest (min).</param>
public readonly struct DecimalExtremumAggregator<TInput>(Func<TInput, decimal> selector, bool largest) : IAggregator<TInput, decimal, decimal>, IPersistentAggregator<decimal>
{
    private readonly Func<TInput, decimal> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public IStateCodec<decimal>? AccumulatorCodec => StateCodec.Decimal;

    /// <inheritdoc />
    public decimal CreateAccumulator() => largest ? decimal.MinValue : decimal.MaxValue;

    /// <inheritdoc />
    public void Add(ref decimal accumulator, in TInput input) => Merge(ref accumulator, _selector(input));

    /// <inheritdoc />
    public void Merge(ref decimal accumulator, in decimal other)
    {
        if (largest ? other > accumulator : other < accumulator)
        {
            accumulator = other;
        }
    }

    /// <inheritdoc />
    public decimal GetResult(in decimal accumulator) => accumulator;
}

/// <summary>
/// Keeps the <c>n</c> inputs with the largest values, largest first (the top pages of a minute from per-page counts,
/// the hottest auctions). Exact, unlike the <c>TopK</c> sketch, because it compares values already counted. Ties go to
/// the smaller item when items have an order (as in <see cref="ExtremeAggregator{TInput, TBy, TItem}"/>), so the result
/// does not depend on arrival order; items without one keep the input held first.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TBy">The compared value.</typeparam>
/// <typeparam name="TItem">What is kept of each input.</typeparam>
/// <param name="count">How many inputs to keep (at least 1).</param>
/// <param name="by">Selects the compared value.</param>
/// <param name="keep">Selects what to keep.</param>
public readonly struct TopNAggregator<TInput, TBy, TItem>(int count, Func<TInput, TBy> by, Func<TInput, TItem> keep)
    : IAggregator<TInput, TopN<TBy, TItem>, IReadOnlyList<Extreme<TBy, TItem>>>, IPersistentAggregator<TopN<TBy, TItem>>
{
    private readonly int _count = count >= 1 ? count : throw new ArgumentOutOfRangeException(nameof(count), count, "TopN keeps at least one input.");
    private readonly Func<TInput, TBy> _by = by ?? throw new ArgumentNullException(nameof(by));
    private readonly Func<TInput, TItem> _keep = keep ?? throw new ArgumentNullException(nameof(keep));

    /// <inheritdoc />
    public IStateCodec<TopN<TBy, TItem>>? AccumulatorCodec
        => StateCodec.Default<TBy>() is { } value && StateCodec.Default<TItem>() is { } item ? new TopNCodec<TBy, TItem>(value, item) : null;

    /// <inheritdoc />
    public TopN<TBy, TItem> CreateAccumulator() => new(_count);

    /// <inheritdoc />
    public void Add(ref TopN<TBy, TItem> accumulator, in TInput input)
    {
        TBy value = _by(input);
        int order = accumulator.Compare(value);
        if (order > 0 || (order == 0 && TieOrder<TItem>.Comparer is not null))
        {
            accumulator.Insert(value, _keep(input));
        }
    }

    /// <inheritdoc />
    public void Merge(ref TopN<TBy, TItem> accumulator, in TopN<TBy, TItem> other)
    {
        for (int i = 0; i < other.Count; i++)
        {
            accumulator.Insert(other.Values[i], other.Items[i]);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<Extreme<TBy, TItem>> GetResult(in TopN<TBy, TItem> accumulator)
    {
        var result = new Extreme<TBy, TItem>[accumulator.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new Extreme<TBy, TItem>(true, accumulator.Values[i], accumulator.Items[i]);
        }

        return result;
    }
}

/// <summary>The accumulator of <see cref="TopNAggregator{TInput, TBy, TItem}"/>: up to <c>n</c> values and items, largest first.</summary>
/// <typeparam name="TBy">The compared value.</typeparam>
/// <typeparam name="TItem">What is kept.</typeparam>
public sealed class TopN<TBy, TItem>
{
    internal TopN(int capacity)
    {
        Values = new TBy[capacity];
        Items = new TItem[capacity];
    }

    /// <summary>Gets the number of inputs held.</summary>
    public int Count { get; private set; }

    internal TBy[] Values { get; }

    internal TItem[] Items { get; }

    /// <summary>Positive when a value would enter the full list (or the list has room), zero when it ties with the last held, negative when it would not.</summary>
    internal int Compare(TBy value) => Count < Values.Length ? 1 : Comparer<TBy>.Default.Compare(value, Values[Count - 1]);

    /// <summary>Puts the input in its place (value descending, then item ascending when items have an order) if it belongs to the top; otherwise leaves the list as it is.</summary>
    internal void Insert(TBy value, TItem item)
    {
        if (Count == Values.Length && !Before(value, item, Count - 1))
        {
            return;
        }

        int at = Math.Min(Count, Values.Length - 1);
        while (at > 0 && Before(value, item, at - 1))
        {
            if (at < Values.Length)
            {
                Values[at] = Values[at - 1];
                Items[at] = Items[at - 1];
            }

            at--;
        }

        Values[at] = value;
        Items[at] = item;
        Count = Math.Min(Count + 1, Values.Length);
    }

    /// <summary>Whether an input goes before the one held at <paramref name="index"/>.</summary>
    private bool Before(TBy value, TItem item, int index)
    {
        int order = Comparer<TBy>.Default.Compare(value, Values[index]);
        return order > 0 || (order == 0 && TieOrder<TItem>.Precedes(item, Items[index]));
    }
}

internal sealed class ExtremeCodec<TBy, TItem>(IStateCodec<TBy> value, IStateCodec<TItem> item) : IStateCodec<Extreme<TBy, TItem>>
{
    public void Write(IBufferWriter<byte> destination, Extreme<TBy, TItem> extreme)
    {
        StateCodec.Boolean.Write(destination, extreme.HasValue);
        if (extreme.HasValue)
        {
            value.Write(destination, extreme.Value);
            item.Write(destination, extreme.Item);
        }
    }

    public Extreme<TBy, TItem> Read(ref ReadOnlySpan<byte> source)
    {
        if (!StateCodec.Boolean.Read(ref source))
        {
            return default;
        }

        var v = value.Read(ref source);
        return new Extreme<TBy, TItem>(true, v, item.Read(ref source));
    }
}

internal sealed class TopNCodec<TBy, TItem>(IStateCodec<TBy> value, IStateCodec<TItem> item) : IStateCodec<TopN<TBy, TItem>>
{
    public void Write(IBufferWriter<byte> destination, TopN<TBy, TItem> top)
    {
        StateCodec.WriteVarInt(destination, (ulong)top.Values.Length);
        StateCodec.WriteVarInt(destination, (ulong)top.Count);
        for (int i = 0; i < top.Count; i++)
        {
            value.Write(destination, top.Values[i]);
            item.Write(destination, top.Items[i]);
        }
    }

    public TopN<TBy, TItem> Read(ref ReadOnlySpan<byte> source)
    {
        ulong capacity = StateCodec.ReadVarInt(ref source);
        ulong count = StateCodec.ReadVarInt(ref source);
        if (capacity is 0 or > 1_000_000 || count > capacity)
        {
            throw new FormatException("A top-N accumulator in the state has an impossible size.");
        }

        var top = new TopN<TBy, TItem>((int)capacity);
        for (ulong i = 0; i < count; i++)
        {
            var v = value.Read(ref source);
            top.Insert(v, item.Read(ref source));
        }

        return top;
    }
}
