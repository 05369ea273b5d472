using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

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
/// All memory (items, counts, a min-heap and an open-addressing index) is allocated in the constructor;
/// <see cref="Add(T)"/> never allocates and costs a hash, a probe and usually a short heap sift. <see langword="null"/>
/// items are ignored. Not thread-safe.
/// </para>
/// </remarks>
public sealed class TopKSketch<T>
{
    private readonly T[] _items;
    private readonly long[] _counts;
    private readonly long[] _errors;
    private readonly int[] _hashes;
    private readonly int[] _slotOf;
    private readonly int[] _table;
    private readonly int _mask;
    private int _size;
    private long _total;

    /// <summary>Initializes an empty sketch.</summary>
    /// <param name="capacity">The number of counters, from 1 to 1,048,576; the error bound is <c>N / capacity</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The capacity is out of range.</exception>
    public TopKSketch(int capacity)
    {
        TopKSketch.ValidateCapacity(capacity);
        _items = new T[capacity];
        _counts = new long[capacity];
        _errors = new long[capacity];
        _hashes = new int[capacity];
        _slotOf = new int[capacity];
        int tableSize = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, capacity * 2));
        _table = new int[tableSize];
        _mask = tableSize - 1;
    }

    /// <summary>Gets the number of counters.</summary>
    public int Capacity => _items.Length;

    /// <summary>Gets the number of items currently counted.</summary>
    public int Size => _size;

    /// <summary>Gets the total of all additions (<c>N</c>).</summary>
    public long TotalCount => _total;

    /// <summary>Gets the bound on any count's over-estimate: the smallest counter once all counters are in use (never more than <c>N / Capacity</c>), 0 before.</summary>
    public long MaxError => _size < _items.Length ? 0 : _counts[0];

    /// <summary>Adds one occurrence of an item.</summary>
    /// <param name="item">The item; <see langword="null"/> is ignored.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T item) => Add(item, 1);

    /// <summary>Adds occurrences of an item.</summary>
    /// <param name="item">The item; <see langword="null"/> is ignored.</param>
    /// <param name="count">The number of occurrences; zero or negative counts are ignored.</param>
    public void Add(T item, long count)
    {
        if (item is null || count <= 0)
        {
            return;
        }

        _total += count;
        int hash = EqualityComparer<T>.Default.GetHashCode(item);
        int position = Find(item, hash, out int slot);
        if (position >= 0)
        {
            _counts[position] += count;
            SiftDown(position);
            return;
        }

        if (_size < _items.Length)
        {
            position = _size++;
            _items[position] = item;
            _counts[position] = count;
            _errors[position] = 0;
            _hashes[position] = hash;
            _table[slot] = position + 1;
            _slotOf[position] = slot;
            SiftUp(position);
            return;
        }

        // Replace the minimum counter: the new item inherits its count as over-estimate.
        long minimum = _counts[0];
        RemoveFromTable(_slotOf[0]);
        slot = FindFreeSlot(hash);
        _items[0] = item;
        _counts[0] = minimum + count;
        _errors[0] = minimum;
        _hashes[0] = hash;
        _table[slot] = 1;
        _slotOf[0] = slot;
        SiftDown(0);
    }

    /// <summary>Gets the estimated count of an item.</summary>
    /// <param name="item">The item.</param>
    /// <returns>The counter when the item is held; otherwise an upper bound (<see cref="MaxError"/>) with that as error.</returns>
    public HeavyHitter<T> Estimate(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        int position = Find(item, EqualityComparer<T>.Default.GetHashCode(item), out _);
        return position >= 0
            ? new HeavyHitter<T>(_items[position], _counts[position], _errors[position])
            : new HeavyHitter<T>(item, MaxError, MaxError);
    }

    /// <summary>Gets the <paramref name="k"/> items with the highest counts.</summary>
    /// <param name="k">How many; at most <see cref="Size"/> are returned.</param>
    /// <returns>The items, highest count first (ties: higher guaranteed count first).</returns>
    public HeavyHitter<T>[] GetTop(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var all = new HeavyHitter<T>[_size];
        for (int i = 0; i < _size; i++)
        {
            all[i] = new HeavyHitter<T>(_items[i], _counts[i], _errors[i]);
        }

        Array.Sort(all, static (a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : a.Error.CompareTo(b.Error));
        return k >= all.Length ? all : all.AsSpan(0, k).ToArray();
    }

    /// <summary>Merges another sketch into this one (mergeable-summaries rule; see the type remarks).</summary>
    /// <param name="other">The sketch to merge in; not modified. It may have another capacity.</param>
    /// <remarks>Allocates temporary storage proportional to both sizes; call it per window or shard, not per event.</remarks>
    public void Merge(TopKSketch<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._size == 0)
        {
            return;
        }

        long thisMin = _size < _items.Length ? 0 : _counts[0];
        long otherMin = other._size < other._items.Length ? 0 : other._counts[0];
        var union = new TopKSketch<T>(_size + other._size);
        for (int i = 0; i < _size; i++)
        {
            union.Insert(_items[i], _counts[i] + otherMin, _errors[i] + otherMin);
        }

        for (int i = 0; i < other._size; i++)
        {
            T item = other._items[i];
            int position = union.Find(item, other._hashes[i], out _);
            if (position >= 0)
            {
                union._counts[position] += other._counts[i] - otherMin;
                union._errors[position] += other._errors[i] - otherMin;
            }
            else
            {
                union.Insert(item, other._counts[i] + thisMin, other._errors[i] + thisMin);
            }
        }

        var entries = new HeavyHitter<T>[union._size];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new HeavyHitter<T>(union._items[i], union._counts[i], union._errors[i]);
        }

        Array.Sort(entries, static (a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : a.Error.CompareTo(b.Error));
        long total = _total + other._total;
        Clear();
        int keep = Math.Min(entries.Length, _items.Length);
        for (int i = 0; i < keep; i++)
        {
            Insert(entries[i].Item, entries[i].Count, entries[i].Error);
        }

        _total = total;
    }

    /// <summary>Removes every item, keeping the arrays.</summary>
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
        var copy = new TopKSketch<T>(_items.Length);
        for (int i = 0; i < _size; i++)
        {
            copy.Insert(_items[i], _counts[i], _errors[i]);
        }

        copy._total = _total;
        return copy;
    }

    /// <summary>
    /// Serializes the sketch: envelope header (<c>"ASSK"</c>, kind 3, version 1); the codec's item type id (1 byte);
    /// capacity (int32); total (int64); item count n (int32); n times count (int64), error (int64), item length
    /// (int32) and item bytes; an 8-byte checksum. Little-endian.
    /// </summary>
    /// <param name="codec">Encodes items, for example <see cref="SketchItemCodecs.Utf8Strings"/>.</param>
    /// <returns>The bytes.</returns>
    public byte[] Serialize(ISketchItemCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        int size = SketchFormat.OverheadSize + 1 + 4 + 8 + 4;
        for (int i = 0; i < _size; i++)
        {
            size += 8 + 8 + 4 + codec.GetByteCount(_items[i]);
        }

        byte[] bytes = new byte[size];
        SketchFormat.WriteHeader(bytes, SketchKind.TopK, TopKSketch.FormatVersion);
        var writer = new SketchWriter(bytes.AsSpan(SketchFormat.HeaderSize));
        writer.WriteByte(codec.TypeId);
        writer.WriteInt32(_items.Length);
        writer.WriteInt64(_total);
        writer.WriteInt32(_size);
        for (int i = 0; i < _size; i++)
        {
            writer.WriteInt64(_counts[i]);
            writer.WriteInt64(_errors[i]);
            int length = codec.GetByteCount(_items[i]);
            writer.WriteInt32(length);
            codec.Write(_items[i], writer.Reserve(length));
        }

        SketchFormat.WriteChecksum(bytes);
        return bytes;
    }

    internal void Insert(T item, long count, long error)
    {
        int hash = EqualityComparer<T>.Default.GetHashCode(item!);
        int slot = FindFreeSlot(hash);
        int position = _size++;
        _items[position] = item;
        _counts[position] = count;
        _errors[position] = error;
        _hashes[position] = hash;
        _table[slot] = position + 1;
        _slotOf[position] = slot;
        SiftUp(position);
    }

    internal void SetTotal(long total) => _total = total;

    internal bool Contains(T item) => Find(item, EqualityComparer<T>.Default.GetHashCode(item!), out _) >= 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Home(int hash) => (int)((uint)hash * 0x9E3779B9u >> 8);

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

            int position = entry - 1;
            if (_hashes[position] == hash && EqualityComparer<T>.Default.Equals(_items[position], item))
            {
                freeSlot = -1;
                return position;
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
            int position = _table[next] - 1;
            int home = Home(_hashes[position]) & _mask;
            if (((next - home) & _mask) >= ((next - hole) & _mask))
            {
                _table[hole] = _table[next];
                _slotOf[position] = hole;
                hole = next;
            }

            next = (next + 1) & _mask;
        }

        _table[hole] = 0;
    }

    private void SiftDown(int position)
    {
        // Hole-based sift: children move up one level each; the sifted entry is written once at the end.
        int size = _size;
        long count = _counts[position];
        int left = (2 * position) + 1;
        if (left >= size || (_counts[left] >= count && (left + 1 >= size || _counts[left + 1] >= count)))
        {
            return;
        }

        T item = _items[position];
        long error = _errors[position];
        int hash = _hashes[position];
        int slot = _slotOf[position];
        while (true)
        {
            left = (2 * position) + 1;
            if (left >= size)
            {
                break;
            }

            int smallest = left;
            int right = left + 1;
            if (right < size && _counts[right] < _counts[left])
            {
                smallest = right;
            }

            if (_counts[smallest] >= count)
            {
                break;
            }

            _items[position] = _items[smallest];
            _counts[position] = _counts[smallest];
            _errors[position] = _errors[smallest];
            _hashes[position] = _hashes[smallest];
            int movedSlot = _slotOf[smallest];
            _slotOf[position] = movedSlot;
            _table[movedSlot] = position + 1;
            position = smallest;
        }

        _items[position] = item;
        _counts[position] = count;
        _errors[position] = error;
        _hashes[position] = hash;
        _slotOf[position] = slot;
        _table[slot] = position + 1;
    }

    private void SiftUp(int position)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            if (_counts[parent] <= _counts[position])
            {
                return;
            }

            Swap(position, parent);
            position = parent;
        }
    }

    private void Swap(int a, int b)
    {
        (_items[a], _items[b]) = (_items[b], _items[a]);
        (_counts[a], _counts[b]) = (_counts[b], _counts[a]);
        (_errors[a], _errors[b]) = (_errors[b], _errors[a]);
        (_hashes[a], _hashes[b]) = (_hashes[b], _hashes[a]);
        (_slotOf[a], _slotOf[b]) = (_slotOf[b], _slotOf[a]);
        _table[_slotOf[a]] = a + 1;
        _table[_slotOf[b]] = b + 1;
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

            sketch.Insert(item, itemCount, error);
        }

        reader.EnsureEnd();
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
    /// <summary>Gets the codec for strings (UTF-8, type id 1; invalid UTF-8 is rejected).</summary>
    public static ISketchItemCodec<string> Utf8Strings { get; } = new StringCodec();

    /// <summary>Gets the codec for 64-bit integers (type id 2).</summary>
    public static ISketchItemCodec<long> Integers { get; } = new Int64Codec();

    /// <summary>Gets the codec for GUIDs (type id 3).</summary>
    public static ISketchItemCodec<Guid> Guids { get; } = new GuidCodec();

    private sealed class StringCodec : ISketchItemCodec<string>
    {
        private static readonly System.Text.UTF8Encoding Strict = new(false, true);

        public byte TypeId => 1;

        public int GetByteCount(string item) => Strict.GetByteCount(item);

        public void Write(string item, Span<byte> destination) => Strict.GetBytes(item, destination);

        public string Read(ReadOnlySpan<byte> source) => Strict.GetString(source);
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
