using System.Numerics;
using System.Runtime.CompilerServices;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming;

/// <summary>
/// The window engines' per-key state: a hash table like <see cref="Dictionary{TKey, TValue}"/> (chained entries in
/// one array, freed entries reused first), with what the engines need and the dictionary does not offer: the entries
/// can be walked by index and their values changed in place, and an entry can be removed during that walk without a
/// second lookup.
/// </summary>
/// <remarks>
/// Buckets are a power of two, indexed by the top bits of the hash times a 32-bit golden-ratio constant, so small or
/// patterned integer keys spread out without a modulo. Strings hash with <see cref="IndexStringComparer"/> (a fast
/// hash seeded once per process); other keys with <see cref="EqualityComparer{T}.Default"/>. Entry indexes are
/// stable while an entry lives, and walking by index gives the order of insertion, with freed places reused.
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
internal sealed class KeyTable<TKey, TValue>
    where TKey : notnull
{
    private const int MinimumSize = 16;
    private const int Vacated = -2; // an entry removed by Vacate, still in its chain until UnlinkVacated
    private const int FreeMarker = -4; // a free entry's Next is FreeMarker - (index of the next free entry, or -1): -3 or less

    private readonly IEqualityComparer<TKey>? _comparer;
    private int[] _buckets = new int[MinimumSize]; // 1 + the index of the first entry of the chain; 0 for none
    private Entry[] _entries = new Entry[MinimumSize];
    private int _shift = 32 - BitOperations.Log2(MinimumSize);
    private int _used;
    private int _freeList = -1;
    private int _freeCount;
    private int _vacated;

    /// <summary>Creates an empty table.</summary>
    public KeyTable()
    {
        _comparer = typeof(TKey) == typeof(string) ? (IEqualityComparer<TKey>)(object)IndexStringComparer.Instance
            : typeof(TKey).IsValueType ? null
            : EqualityComparer<TKey>.Default;
    }

    /// <summary>Gets the number of keys.</summary>
    public int Count => _used - _freeCount - _vacated;

    /// <summary>Gets the number of entry places in use or freed: walk indexes <c>0</c> to this, skipping those that are not <see cref="IsLive"/>.</summary>
    public int Extent => _used;

    /// <summary>Tells whether the entry at an index holds a key.</summary>
    /// <param name="index">An index below <see cref="Extent"/>.</param>
    /// <returns><see langword="true"/> for a live entry.</returns>
    public bool IsLive(int index) => _entries[index].Next >= -1;

    /// <summary>Gets the key of a live entry.</summary>
    /// <param name="index">The entry's index.</param>
    /// <returns>The key.</returns>
    public TKey KeyAt(int index) => _entries[index].Key;

    /// <summary>Gets the value of a live entry, to read or change in place.</summary>
    /// <param name="index">The entry's index.</param>
    /// <returns>A reference to the value, valid until the next addition.</returns>
    public ref TValue ValueAt(int index) => ref _entries[index].Value;

    /// <summary>Finds a key's value.</summary>
    /// <param name="key">The key.</param>
    /// <returns>A reference to the value (valid until the next addition), or a null reference when the key is missing.</returns>
    public ref TValue GetValueRefOrNullRef(TKey key)
    {
        int index = Find(key, Hash(key));
        return ref index < 0 ? ref Unsafe.NullRef<TValue>() : ref _entries[index].Value;
    }

    /// <summary>Finds a key's value, adding the key with a default value when missing.</summary>
    /// <param name="key">The key.</param>
    /// <param name="exists">Whether the key was there.</param>
    /// <returns>A reference to the value, valid until the next addition.</returns>
    public ref TValue GetValueRefOrAddDefault(TKey key, out bool exists)
    {
        uint hash = Hash(key);
        int index = Find(key, hash);
        if (index >= 0)
        {
            exists = true;
            return ref _entries[index].Value;
        }

        exists = false;
        if (_freeCount > 0)
        {
            index = _freeList;
            _freeList = FreeMarker - _entries[index].Next;
            _freeCount--;
        }
        else
        {
            if (_used == _entries.Length)
            {
                Grow();
            }

            index = _used++;
        }

        ref int bucket = ref _buckets[(int)((hash * 0x9E3779B9u) >> _shift)];
        ref Entry entry = ref _entries[index];
        entry.Hash = hash;
        entry.Key = key;
        entry.Value = default!;
        entry.Next = bucket - 1;
        bucket = index + 1;
        return ref entry.Value;
    }

    /// <summary>Removes a key.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when it was there.</returns>
    public bool Remove(TKey key)
    {
        int index = Find(key, Hash(key));
        if (index < 0)
        {
            return false;
        }

        RemoveAt(index);
        return true;
    }

    /// <summary>Removes the live entry at an index; the other entries keep their indexes, so a walk by index can go on.</summary>
    /// <param name="index">The entry's index.</param>
    public void RemoveAt(int index)
    {
        ref Entry entry = ref _entries[index];
        ref int bucket = ref _buckets[(int)((entry.Hash * 0x9E3779B9u) >> _shift)];
        int previous = bucket - 1;
        if (previous == index)
        {
            bucket = entry.Next + 1;
        }
        else
        {
            while (_entries[previous].Next != index)
            {
                previous = _entries[previous].Next;
            }

            _entries[previous].Next = entry.Next;
        }

        entry.Key = default!;
        entry.Value = default!;
        entry.Next = FreeMarker - _freeList;
        _freeList = index;
        _freeCount++;
    }

    /// <summary>
    /// Removes the live entry at an index during a walk, without touching its chain: cheaper than
    /// <see cref="RemoveAt"/> when many entries go (no random access per entry), but the table may not be searched or
    /// added to until <see cref="UnlinkVacated"/> has run.
    /// </summary>
    /// <param name="index">The entry's index.</param>
    public void Vacate(int index)
    {
        ref Entry entry = ref _entries[index];
        entry.Key = default!;
        entry.Value = default!;
        entry.Next = Vacated;
        _vacated++;
    }

    /// <summary>Finishes the removals of <see cref="Vacate"/>: rebuilds the chains of the live entries in one pass and frees the vacated places.</summary>
    public void UnlinkVacated()
    {
        if (_vacated > 0)
        {
            Array.Clear(_buckets);
            Rechain();
        }
    }

    private uint Hash(TKey key) => (uint)(typeof(TKey).IsValueType ? EqualityComparer<TKey>.Default.GetHashCode(key) : _comparer!.GetHashCode(key));

    private int Find(TKey key, uint hash)
    {
        var entries = _entries;
        int i = _buckets[(int)((hash * 0x9E3779B9u) >> _shift)] - 1;
        while ((uint)i < (uint)entries.Length)
        {
            ref Entry entry = ref entries[i];
            if (entry.Hash == hash && (typeof(TKey).IsValueType ? EqualityComparer<TKey>.Default.Equals(entry.Key, key) : _comparer!.Equals(entry.Key, key)))
            {
                return i;
            }

            i = entry.Next;
        }

        return -1;
    }

    /// <summary>
    /// Makes room for <paramref name="count"/> keys in all, so that adding them does not grow the table step by step.
    /// Beyond 2^30 keys the table is left to grow as it fills.
    /// </summary>
    /// <param name="count">The number of keys the table is to hold.</param>
    public void EnsureCapacity(int count)
    {
        if (count > _entries.Length && count <= 1 << 30)
        {
            Resize((int)BitOperations.RoundUpToPowerOf2((uint)count));
        }
    }

    private void Grow() => Resize(_entries.Length * 2);

    private void Resize(int size)
    {
        Array.Resize(ref _entries, size);
        _buckets = new int[size];
        _shift = 32 - BitOperations.Log2((uint)size);
        Rechain();
    }

    /// <summary>Links every live entry into the (empty) buckets, in one pass over the entries, and frees the vacated ones.</summary>
    private void Rechain()
    {
        var entries = _entries;
        for (int i = 0; i < _used; i++)
        {
            ref Entry entry = ref entries[i];
            if (entry.Next >= -1)
            {
                ref int bucket = ref _buckets[(int)((entry.Hash * 0x9E3779B9u) >> _shift)];
                entry.Next = bucket - 1;
                bucket = i + 1;
            }
            else if (entry.Next == Vacated)
            {
                entry.Next = FreeMarker - _freeList;
                _freeList = i;
                _freeCount++;
            }
        }

        _vacated = 0;
    }

    private struct Entry
    {
        public uint Hash;
        public int Next; // the next entry of the chain, -1 at its end; FreeMarker minus the next free entry when free
        public TKey Key;
        public TValue Value;
    }
}
