using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Sketches;

/// <summary>
/// A heavy-hitters sketch (Space-Saving): at most <see cref="Capacity"/> counters, each an item with an
/// over-estimated count and the most it can over-estimate.
/// </summary>
/// <typeparam name="T">The item type; compared with <see cref="EqualityComparer{T}.Default"/> (ordinal for strings).</typeparam>
/// <remarks>
/// <para>
/// Error bound: after <c>N</c> additions, every counted item's <see cref="HeavyHitter{T}.Count"/> is at least its
/// true frequency and at most that plus <see cref="HeavyHitter{T}.Error"/>, which never exceeds
/// <c>N / Capacity</c>; every item whose true frequency exceeds <c>N / Capacity</c> is guaranteed to be held. Merging
/// (the mergeable-summaries rule of Agarwal et al.: add counts, charge absent items the other side's minimum, keep
/// the largest) keeps both properties with <c>N</c> the total of both sides.
/// </para>
/// <para>
/// The counters (items, counts ranked highest first, and an open-addressing index of the items) start with room for
/// 8 items and double as new items arrive, up to <see cref="Capacity"/>, so a sketch per key and window that sees a
/// few items stays small; the answers are those of a sketch with all its counters from the start. <see cref="Add(T)"/>
/// allocates only when the counters grow, and costs a hash, a probe and at most one binary search over the counters.
/// <see langword="null"/> items are ignored. Not thread-safe.
/// </para>
/// </remarks>
public sealed class TopKSketch<T>
{
    // Each counter has a fixed id (0 to Size - 1) that keys its item, error, hash and index slot; the hash index
    // maps to ids and so never changes when counts move. The counters are ranked by count, highest first:
    // _order[rank] is an id, _counts[rank] its count, _rank[id] its rank. Equal counts form a run, so a unit
    // addition swaps the counter with the first of its run and a replacement takes the first counter of the last
    // (minimum) run: both keep the order with one binary search and no shifting.
    private const int FirstLength = 8;
    private readonly IEqualityComparer<T> _comparer;
    private readonly int _capacity;
    private T[] _items = [];
    private long[] _errors = [];
    private int[] _hashes = [];
    private int[] _slotOf = [];
    private int[] _order = [];
    private long[] _counts = [];
    private int[] _rank = [];
    private int[] _table = [];
    private int _mask;
    private int _size;
    private long _total;
    private int _minimumRunHint;

    /// <summary>Initializes an empty sketch.</summary>
    /// <param name="capacity">The number of counters, from 1 to 1,048,576; the error bound is <c>N / capacity</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The capacity is out of range.</exception>
    public TopKSketch(int capacity)
        : this(capacity, validate: true)
    {
    }

    /// <summary>Initializes an empty sketch; the union a merge builds may hold up to twice the largest capacity.</summary>
    private TopKSketch(int capacity, bool validate)
    {
        if (validate)
        {
            TopKSketch.ValidateCapacity(capacity);
        }

        _comparer = typeof(T) == typeof(string) ? (IEqualityComparer<T>)(object)IndexStringComparer.Instance : EqualityComparer<T>.Default;
        _capacity = capacity;
        Resize(Math.Min(capacity, FirstLength));
    }

    /// <summary>Gets the number of counters.</summary>
    public int Capacity => _capacity;

    /// <summary>Gets the number of items currently counted.</summary>
    public int Size => _size;

    /// <summary>Gets the total of all additions (<c>N</c>).</summary>
    public long TotalCount => _total;

    /// <summary>Gets the bound on any count's over-estimate: the smallest counter once all counters are in use (never more than <c>N / Capacity</c>), 0 before.</summary>
    public long MaxError => _size < _capacity ? 0 : _counts[_size - 1];

    /// <summary>Adds one occurrence of an item.</summary>
    /// <param name="item">The item; <see langword="null"/> is ignored.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T item) => Add(item, 1);

    /// <summary>Adds occurrences of an item.</summary>
    /// <param name="item">The item; <see langword="null"/> is ignored.</param>
    /// <param name="count">The number of occurrences; zero or negative counts are ignored.</param>
    /// <remarks>
    /// A single occurrence costs a hash, an index probe and at most one binary search over the counters, whether the
    /// item is counted, new, or replaces the minimum. A larger count also passes each distinct count it overtakes.
    /// </remarks>
    public void Add(T item, long count)
    {
        if (item is null || count <= 0)
        {
            return;
        }

        _total += count;
        int hash = HashOf(item);
        int id = Find(item, hash, out int slot);
        if (id >= 0)
        {
            int rank = _rank[id];
            _counts[rank] += count;
            Raise(rank);
            return;
        }

        if (_size < _capacity)
        {
            if (_size == _items.Length)
            {
                Grow();
                slot = FindFreeSlot(hash);
            }

            id = _size++;
            Store(id, item, hash, slot, 0);
            _order[id] = id;
            _rank[id] = id;
            _counts[id] = count;
            Raise(id);
            return;
        }

        // Replace a minimum counter: the new item inherits its count as over-estimate. Taking the first counter of
        // the minimum run keeps the order for a single occurrence, since every counter ranked above it is higher.
        long minimum = _counts[_size - 1];
        int victim = FirstOfMinimumRun(minimum);
        id = _order[victim];
        RemoveFromTable(_slotOf[id]);
        Store(id, item, hash, FindFreeSlot(hash), minimum);
        _counts[victim] = minimum + count;
        _minimumRunHint = victim + 1;
        Raise(victim);
    }

    /// <summary>Gets the estimated count of an item.</summary>
    /// <param name="item">The item.</param>
    /// <returns>The counter when the item is held; otherwise an upper bound (<see cref="MaxError"/>) with that as error.</returns>
    public HeavyHitter<T> Estimate(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        int id = Find(item, HashOf(item), out _);
        return id >= 0
            ? new HeavyHitter<T>(_items[id], _counts[_rank[id]], _errors[id])
            : new HeavyHitter<T>(item, MaxError, MaxError);
    }

    /// <summary>Gets the <paramref name="k"/> items with the highest counts.</summary>
    /// <param name="k">How many; at most <see cref="Size"/> are returned.</param>
    /// <returns>The items, highest count first (ties: higher guaranteed count first).</returns>
    public HeavyHitter<T>[] GetTop(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        HeavyHitter<T>[] all = Entries();
        Array.Sort(all, static (a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : a.Error.CompareTo(b.Error));
        return k >= all.Length ? all : all.AsSpan(0, k).ToArray();
    }

    /// <summary>Merges another sketch into this one (mergeable-summaries rule; see the type remarks).</summary>
    /// <param name="other">The sketch to merge in, of the same capacity; not modified.</param>
    /// <remarks>Allocates temporary storage proportional to both sizes; call it per window or shard, not per event.</remarks>
    /// <exception cref="ArgumentException"><paramref name="other"/> has another capacity: a full smaller sketch would leave this one with room, and without a bound for what it evicted.</exception>
    public void Merge(TopKSketch<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._capacity != _capacity)
        {
            throw new ArgumentException(
                $"A top-K sketch of capacity {other._capacity} cannot be merged into one of capacity {_capacity}: the error bound holds only between sketches of one capacity.",
                nameof(other));
        }

        if (other._size == 0)
        {
            return;
        }

        long thisMin = MaxError;
        long otherMin = other.MaxError;
        var union = new TopKSketch<T>(_size + other._size, validate: false);
        // In rank order, not id order: ranks are what a checkpoint restores, so a restored sketch merges the same way.
        for (int rank = 0; rank < _size; rank++)
        {
            int id = _order[rank];
            union.Append(_items[id], _counts[rank] + otherMin, _errors[id] + otherMin);
        }

        for (int rank = 0; rank < other._size; rank++)
        {
            int id = other._order[rank];
            T item = other._items[id];
            long count = other._counts[rank];
            int found = union.Find(item, other._hashes[id], out _);
            if (found >= 0)
            {
                union._counts[union._rank[found]] += count - otherMin;
                union._errors[found] += other._errors[id] - otherMin;
            }
            else
            {
                union.Append(item, count + thisMin, other._errors[id] + thisMin);
            }
        }

        HeavyHitter<T>[] entries = union.Entries();
        Array.Sort(entries, static (a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : a.Error.CompareTo(b.Error));
        long total = _total + other._total;
        Clear();
        int keep = Math.Min(entries.Length, _capacity);
        for (int i = 0; i < keep; i++)
        {
            // Highest count first: appending keeps the order.
            Append(entries[i].Item, entries[i].Count, entries[i].Error);
        }

        _total = total;
    }

    /// <summary>Removes every item, keeping the memory already taken.</summary>
    public void Clear()
    {
        Array.Clear(_items);
        Array.Clear(_table);
        _size = 0;
        _total = 0;
    }

    /// <summary>Creates an independent copy.</summary>
    /// <returns>The copy.</returns>
    public TopKSketch<T> Clone()
    {
        var copy = new TopKSketch<T>(_capacity);
        for (int rank = 0; rank < _size; rank++)
        {
            int id = _order[rank];
            copy.Append(_items[id], _counts[rank], _errors[id]);
        }

        copy._total = _total;
        return copy;
    }

    /// <summary>
    /// Serializes the sketch: envelope header (<c>"ASSK"</c>, kind 3, version 1); the codec's item type id (1 byte);
    /// capacity (int32); total (int64); item count n (int32); n times count (int64), error (int64), item length
    /// (int32) and item bytes; an 8-byte checksum. Little-endian. Items are written highest count first; readers
    /// accept any order.
    /// </summary>
    /// <param name="codec">Encodes items, for example <see cref="SketchItemCodecs.Utf8Strings"/>.</param>
    /// <returns>The bytes.</returns>
    public byte[] Serialize(ISketchItemCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        int size = SketchFormat.OverheadSize + 1 + 4 + 8 + 4;
        for (int id = 0; id < _size; id++)
        {
            size += 8 + 8 + 4 + codec.GetByteCount(_items[id]);
        }

        byte[] bytes = new byte[size];
        SketchFormat.WriteHeader(bytes, SketchKind.TopK, TopKSketch.FormatVersion);
        var writer = new SketchWriter(bytes.AsSpan(SketchFormat.HeaderSize));
        writer.WriteByte(codec.TypeId);
        writer.WriteInt32(_capacity);
        writer.WriteInt64(_total);
        writer.WriteInt32(_size);
        for (int rank = 0; rank < _size; rank++)
        {
            int id = _order[rank];
            writer.WriteInt64(_counts[rank]);
            writer.WriteInt64(_errors[id]);
            int length = codec.GetByteCount(_items[id]);
            writer.WriteInt32(length);
            codec.Write(_items[id], writer.Reserve(length));
        }

        SketchFormat.WriteChecksum(bytes);
        return bytes;
    }

    /// <summary>Adds a counter for an item not yet held, ranked last; call <see cref="Rank"/> afterwards unless the counts come highest first.</summary>
    internal void Append(T item, long count, long error)
    {
        if (_size == _items.Length)
        {
            Grow();
        }

        int hash = HashOf(item!);
        int id = _size++;
        Store(id, item, hash, FindFreeSlot(hash), error);
        _order[id] = id;
        _rank[id] = id;
        _counts[id] = count;
    }

    /// <summary>
    /// Ranks the counters by count after <see cref="Append"/> in any order. Equal counts keep their appended order, so
    /// a sketch read back from its own bytes (written highest count first) has exactly the ranking it was written
    /// with, and goes on choosing the same counters to replace as the sketch that was not restarted.
    /// </summary>
    internal void Rank()
    {
        var ranked = new (long Count, int Id)[_size];
        for (int id = 0; id < _size; id++)
        {
            ranked[id] = (_counts[id], id);
        }

        Array.Sort(ranked, static (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Id.CompareTo(b.Id));
        for (int rank = 0; rank < _size; rank++)
        {
            (_counts[rank], _order[rank]) = ranked[rank];
            _rank[_order[rank]] = rank;
        }
    }

    internal void SetTotal(long total) => _total = total;

    internal bool Contains(T item) => Find(item, HashOf(item!), out _) >= 0;

    // Value types keep the comparer the JIT inlines; strings use the index hash, several times faster than Marvin.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HashOf(T item) => typeof(T).IsValueType ? EqualityComparer<T>.Default.GetHashCode(item!) : _comparer.GetHashCode(item!);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Same(T stored, T item) => typeof(T).IsValueType ? EqualityComparer<T>.Default.Equals(stored, item) : _comparer.Equals(stored, item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Home(int hash) => (int)((uint)hash * 0x9E3779B9u >> 8);

    /// <summary>Doubles the room for counters, up to the capacity.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow() => Resize((int)Math.Min(_capacity, _items.Length * 2L));

    /// <summary>
    /// Makes room for <paramref name="length"/> counters, keeping those held, and indexes the items again in a table of
    /// four slots per counter (a power of two).
    /// </summary>
    private void Resize(int length)
    {
        Array.Resize(ref _items, length);
        Array.Resize(ref _errors, length);
        Array.Resize(ref _hashes, length);
        Array.Resize(ref _order, length);
        Array.Resize(ref _counts, length);
        Array.Resize(ref _rank, length);
        _slotOf = new int[length];
        int tableSize = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, length * 4));
        _table = new int[tableSize];
        _mask = tableSize - 1;
        for (int id = 0; id < _size; id++)
        {
            int slot = FindFreeSlot(_hashes[id]);
            _table[slot] = id + 1;
            _slotOf[id] = slot;
        }
    }

    private HeavyHitter<T>[] Entries()
    {
        var all = new HeavyHitter<T>[_size];
        for (int rank = 0; rank < _size; rank++)
        {
            int id = _order[rank];
            all[rank] = new HeavyHitter<T>(_items[id], _counts[rank], _errors[id]);
        }

        return all;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(int id, T item, int hash, int slot, long error)
    {
        _items[id] = item;
        _errors[id] = error;
        _hashes[id] = hash;
        _slotOf[id] = slot;
        _table[slot] = id + 1;
    }

    /// <summary>Moves the counter at <paramref name="rank"/>, whose count has grown, above every lower count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Raise(int rank)
    {
        long count = _counts[rank];
        while (rank > 0 && _counts[rank - 1] < count)
        {
            // Swap with the first counter of the run just above: the run stays contiguous and in order.
            int first = FirstOfRun(rank - 1);
            long passed = _counts[first];
            if (passed == _counts[_size - 1])
            {
                // The minimum run now starts one rank lower: the next replacement finds it without a search.
                _minimumRunHint = first + 1;
            }

            int id = _order[rank];
            int other = _order[first];
            _order[first] = id;
            _rank[id] = first;
            _counts[first] = count;
            _order[rank] = other;
            _rank[other] = rank;
            _counts[rank] = passed;
            rank = first;
        }
    }

    /// <summary>Gets the first rank of the run of minimum counts, trying the rank after the last one taken from it first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FirstOfMinimumRun(long minimum)
    {
        // Replacements take the minimum run from its start, one rank at a time: the hint is usually right, and is
        // checked (the minimum at the hint, a higher count before it) before it is trusted.
        int hint = _minimumRunHint;
        long[] counts = _counts;
        if ((uint)hint < (uint)_size && counts[hint] == minimum && (hint == 0 || counts[hint - 1] != minimum))
        {
            return hint;
        }

        return FirstOfRun(_size - 1);
    }

    /// <summary>Gets the first rank of the run of equal counts that ends at or passes through <paramref name="rank"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FirstOfRun(int rank)
    {
        long[] counts = _counts;
        long count = counts[rank];
        if (rank == 0 || counts[rank - 1] != count)
        {
            return rank;
        }

        // Branch-free lower bound over [0, rank): the first rank whose count is not higher. The step is taken by
        // arithmetic on the sign of the difference (counts are positive, so it cannot overflow): a jump on the
        // comparison would be mispredicted half of the time, which is most of the cost of a replacement.
        ref long start = ref MemoryMarshal.GetArrayDataReference(counts);
        int first = 0;
        int length = rank;
        while (length > 1)
        {
            int half = length >> 1;
            long higher = (count - Unsafe.Add(ref start, first + half)) >> 63;
            first += half & (int)higher;
            length -= half;
        }

        return first + (int)(((ulong)(count - Unsafe.Add(ref start, first))) >> 63);
    }

    private int Find(T item, int hash, out int freeSlot)
    {
        int slot = Home(hash) & _mask;
        while (true)
        {
            int entry = _table[slot];
            if (entry == 0)
            {
                freeSlot = slot;
                return -1;
            }

            int id = entry - 1;
            if (_hashes[id] == hash && Same(_items[id], item))
            {
                freeSlot = -1;
                return id;
            }

            slot = (slot + 1) & _mask;
        }
    }

    private int FindFreeSlot(int hash)
    {
        int slot = Home(hash) & _mask;
        while (_table[slot] != 0)
        {
            slot = (slot + 1) & _mask;
        }

        return slot;
    }

    private void RemoveFromTable(int slot)
    {
        // Backward-shift deletion for linear probing: pull later entries of the cluster into the hole.
        int hole = slot;
        int next = (hole + 1) & _mask;
        while (_table[next] != 0)
        {
            int id = _table[next] - 1;
            int home = Home(_hashes[id]) & _mask;
            if (((next - home) & _mask) >= ((next - hole) & _mask))
            {
                _table[hole] = _table[next];
                _slotOf[id] = hole;
                hole = next;
            }

            next = (next + 1) & _mask;
        }

        _table[hole] = 0;
    }
}

/// <summary>Creates and reads <see cref="TopKSketch{T}"/> instances.</summary>
public static class TopKSketch
{
    /// <summary>The largest capacity accepted.</summary>
    public const int MaxCapacity = 1 << 20;

    internal const byte FormatVersion = 1;

    /// <summary>The default number of counters for a top-<paramref name="k"/> query: <c>max(64, 10 k)</c>.</summary>
    /// <param name="k">The number of items reported.</param>
    /// <returns>The capacity.</returns>
    public static int DefaultCapacity(int k) => Math.Min(MaxCapacity, Math.Max(64, 10 * k));

    /// <summary>Throws when a capacity is out of range; used by options validation.</summary>
    /// <param name="capacity">The capacity.</param>
    /// <exception cref="ArgumentOutOfRangeException">The capacity is out of range.</exception>
    internal static void ValidateCapacity(int capacity)
    {
        if (capacity is < 1 or > MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(capacity),
                capacity,
                $"The top-K capacity must be between 1 and {MaxCapacity}; counts are over-estimated by at most N / capacity, so use about 10 k.");
        }
    }

    /// <summary>Reads a sketch written by <see cref="TopKSketch{T}.Serialize"/>.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="source">The bytes.</param>
    /// <param name="codec">Decodes items; must be the codec that wrote them.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="SketchFormatException">The bytes are truncated, corrupted, of another kind, version or item type, or inconsistent.</exception>
    public static TopKSketch<T> Deserialize<T>(ReadOnlySpan<byte> source, ISketchItemCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ReadOnlySpan<byte> payload = SketchFormat.OpenEnvelope(source, SketchKind.TopK, FormatVersion, out _);
        var reader = new SketchReader(payload, "top-K");
        byte typeId = reader.ReadByte();
        if (typeId != codec.TypeId)
        {
            throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"its items were written with item type {typeId}, but the codec reads type {codec.TypeId}"));
        }

        int capacity = reader.ReadInt32();
        if (capacity is < 1 or > MaxCapacity)
        {
            throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"capacity {capacity} is out of range"));
        }

        long total = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count < 0 || count > capacity || total < 0)
        {
            throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"{count} items for capacity {capacity} (total {total})"));
        }

        var sketch = new TopKSketch<T>(capacity);
        for (int i = 0; i < count; i++)
        {
            long itemCount = reader.ReadInt64();
            long error = reader.ReadInt64();
            int length = reader.ReadInt32();
            ReadOnlySpan<byte> itemBytes = reader.ReadBytes(length);
            if (itemCount <= 0 || error < 0 || error > itemCount)
            {
                throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"item {i} has count {itemCount} and error {error}"));
            }

            T item;
            try
            {
                item = codec.Read(itemBytes);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
            {
                throw new SketchFormatException(string.Create(CultureInfo.InvariantCulture, $"The top-K sketch is invalid: item {i} cannot be decoded ({ex.Message})."), ex);
            }

            if (item is null || sketch.Contains(item))
            {
                throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"item {i} is null or appears twice"));
            }

            sketch.Append(item, itemCount, error);
        }

        reader.EnsureEnd();
        sketch.Rank();
        sketch.SetTotal(total);
        return sketch;
    }

    /// <summary>Merges two serialized sketches into the serialized merge (with the left sketch's capacity).</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="left">A serialized sketch.</param>
    /// <param name="right">Another serialized sketch.</param>
    /// <param name="codec">The item codec.</param>
    /// <returns>The serialized merge.</returns>
    /// <exception cref="SketchFormatException">Either input is invalid.</exception>
    /// <exception cref="ArgumentException">The sketches have different capacities.</exception>
    public static byte[] MergeSerialized<T>(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, ISketchItemCodec<T> codec)
    {
        TopKSketch<T> sketch = Deserialize(left, codec);
        sketch.Merge(Deserialize(right, codec));
        return sketch.Serialize(codec);
    }
}

/// <summary>An item of a top-K result.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Count">The estimated count: at least the true count, at most the true count plus <paramref name="Error"/>.</param>
/// <param name="Error">The most the count can over-estimate.</param>
public readonly record struct HeavyHitter<T>(T Item, long Count, long Error)
{
    /// <summary>Gets the guaranteed lower bound of the true count.</summary>
    public long GuaranteedCount => Count - Error;
}

/// <summary>Encodes items of a top-K sketch into its binary form.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>Implementations are stateless and thread-safe. <see cref="Read"/> throws <see cref="FormatException"/> or <see cref="ArgumentException"/> on bad bytes.</remarks>
public interface ISketchItemCodec<T>
{
    /// <summary>Gets the identifier of the item type written into the binary form (1-127 built in, 128-255 for your own).</summary>
    byte TypeId { get; }

    /// <summary>Gets the encoded length of an item.</summary>
    /// <param name="item">The item.</param>
    /// <returns>The number of bytes.</returns>
    int GetByteCount(T item);

    /// <summary>Writes an item.</summary>
    /// <param name="item">The item.</param>
    /// <param name="destination">Exactly <see cref="GetByteCount"/> bytes.</param>
    void Write(T item, Span<byte> destination);

    /// <summary>Reads an item.</summary>
    /// <param name="source">The encoded bytes.</param>
    /// <returns>The item.</returns>
    T Read(ReadOnlySpan<byte> source);
}

/// <summary>The built-in item codecs.</summary>
public static class SketchItemCodecs
{
    /// <summary>Gets the codec for strings (UTF-8, type id 1): lone surrogates, which a .NET string may hold, as the three bytes UTF-8 gives their code point (WTF-8); other invalid UTF-8 is rejected.</summary>
    public static ISketchItemCodec<string> Utf8Strings { get; } = new StringCodec();

    /// <summary>Gets the codec for 64-bit integers (type id 2).</summary>
    public static ISketchItemCodec<long> Integers { get; } = new Int64Codec();

    /// <summary>Gets the codec for GUIDs (type id 3).</summary>
    public static ISketchItemCodec<Guid> Guids { get; } = new GuidCodec();

    private sealed class StringCodec : ISketchItemCodec<string>
    {
        public byte TypeId => 1;

        public int GetByteCount(string item) => Wtf8.GetByteCount(item);

        public void Write(string item, Span<byte> destination) => Wtf8.Write(item, destination);

        public string Read(ReadOnlySpan<byte> source) => Wtf8.GetString(source);
    }

    private sealed class Int64Codec : ISketchItemCodec<long>
    {
        public byte TypeId => 2;

        public int GetByteCount(long item) => 8;

        public void Write(long item, Span<byte> destination) => System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(destination, item);

        public long Read(ReadOnlySpan<byte> source)
            => source.Length == 8 ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(source) : throw new FormatException("A 64-bit integer item must be 8 bytes.");
    }

    private sealed class GuidCodec : ISketchItemCodec<Guid>
    {
        public byte TypeId => 3;

        public int GetByteCount(Guid item) => 16;

        public void Write(Guid item, Span<byte> destination) => item.TryWriteBytes(destination);

        public Guid Read(ReadOnlySpan<byte> source)
            => source.Length == 16 ? new Guid(source) : throw new FormatException("A GUID item must be 16 bytes.");
    }
}
