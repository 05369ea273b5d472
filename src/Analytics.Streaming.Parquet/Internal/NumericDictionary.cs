using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// The distinct values of a dictionary-encoded INT32, INT64, FLOAT or DOUBLE column chunk, in first-seen order (the
/// dictionary page), and the index of each: an open-addressing table (Fibonacci hashing, linear probing, load at most
/// one half) whose slots hold the value's bits and its index, so a lookup usually touches one cache line. Values are
/// compared bit for bit (NaN payloads and the two zeros are distinct entries, as PLAIN would store them). Arrays are
/// pooled: once warm, nothing is allocated.
/// </summary>
internal sealed class NumericDictionary<T> : IDisposable
    where T : unmanaged
{
    private T[] _values = Pooled.Rent<T>(256);
    private Slot[] _slots = [];
    private int _slotCount;
    private int _shift;
    private int _count;

    public NumericDictionary() => Resize(512);

    public int Count => _count;

    public ReadOnlySpan<T> Values => _values.AsSpan(0, _count);

    /// <summary>Returns the index of <paramref name="value"/>, adding it at the end when it is new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAdd(T value, out bool added)
    {
        ulong bits = Bits(value);
        var slots = _slots;
        int mask = _slotCount - 1;
        int slot = (int)((bits * 0x9E3779B97F4A7C15UL) >> _shift);
        while (true)
        {
            ref var entry = ref slots[slot];
            if (entry.IndexPlusOne == 0)
            {
                added = true;
                return Add(value, bits, ref entry);
            }

            if (entry.Bits == bits)
            {
                added = false;
                return entry.IndexPlusOne - 1;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>Empties the dictionary for the next chunk (capacity kept).</summary>
    public void Clear()
    {
        _count = 0;
        _slots.AsSpan(0, _slotCount).Clear();
    }

    public void Dispose()
    {
        Pooled.Return(ref _values);
        Pooled.Return(ref _slots);
        _slotCount = 0;
        _count = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(T value) => Unsafe.SizeOf<T>() == 4 ? Unsafe.As<T, uint>(ref value) : Unsafe.As<T, ulong>(ref value);

    private int Add(T value, ulong bits, ref Slot entry)
    {
        int index = _count;
        if (index == _values.Length)
        {
            Pooled.Grow(ref _values, index, index + 1);
        }

        _values[index] = value;
        _count = index + 1;
        entry.Bits = bits;
        entry.IndexPlusOne = index + 1;
        if ((long)_count * 2 > _slotCount)
        {
            Resize(_slotCount * 2);
        }

        return index;
    }

    /// <summary>Rebuilds the table with <paramref name="slotCount"/> slots (a power of two) from the values in order.</summary>
    private void Resize(int slotCount)
    {
        Pooled.Return(ref _slots);
        _slots = Pooled.Rent<Slot>(slotCount);
        _slots.AsSpan(0, slotCount).Clear();
        _slotCount = slotCount;
        _shift = 64 - int.Log2(slotCount);
        int mask = slotCount - 1;
        for (int i = 0; i < _count; i++)
        {
            ulong bits = Bits(_values[i]);
            int slot = (int)((bits * 0x9E3779B97F4A7C15UL) >> _shift);
            while (_slots[slot].IndexPlusOne != 0)
            {
                slot = (slot + 1) & mask;
            }

            _slots[slot] = new Slot { Bits = bits, IndexPlusOne = i + 1 };
        }
    }

    private struct Slot
    {
        public ulong Bits;
        public int IndexPlusOne;
    }
}
