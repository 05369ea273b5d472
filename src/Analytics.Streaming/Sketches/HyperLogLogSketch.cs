using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Sketches;

/// <summary>
/// A HyperLogLog distinct-count sketch: <c>2^precision</c> one-byte registers, estimated with Ertl's improved
/// estimator, which corrects small and large cardinalities without empirical bias tables.
/// </summary>
/// <remarks>
/// <para>
/// Standard error is about <c>1.04 / sqrt(2^precision)</c>: 0.81% at the default precision 14 (16 KiB of
/// registers). Small cardinalities are estimated almost exactly (the estimator degrades to linear counting when
/// most registers are empty).
/// </para>
/// <para>
/// A new sketch is sparse: it keeps only the registers that are set, in a small table (16 bytes to start, against
/// 16 KiB of registers at precision 14), so a per-key, per-window distinct count over many keys with few values each
/// costs bytes, not kilobytes. When a sixteenth of the registers are set, the table would be as large as half the
/// registers, and the sketch turns dense once. Both forms hold the same registers: estimates, merges and the binary
/// form do not depend on which one a sketch is in. Adds allocate only when the table grows or the sketch turns
/// dense; a dense sketch never allocates.
/// </para>
/// <para>
/// <see cref="Merge"/> takes the register-wise maximum, so merging is associative, commutative and idempotent, and
/// the merge of sketches equals the sketch of the union of their inputs exactly. Sketches of different precisions
/// merge by folding the finer one down to the coarser precision.
/// </para>
/// <para>
/// Not thread-safe: one writer at a time, no reads during writes. The binary form (<see cref="Serialize()"/>) is
/// stable and versioned; see the sketches README for the layout.
/// </para>
/// </remarks>
public sealed class HyperLogLogSketch
{
    /// <summary>The default precision: 2^14 registers, standard error 0.81%.</summary>
    public const int DefaultPrecision = 14;

    /// <summary>The smallest precision accepted (16 registers, standard error 26%).</summary>
    public const int MinPrecision = 4;

    /// <summary>The largest precision accepted (2^18 registers, 256 KiB, standard error 0.2%).</summary>
    public const int MaxPrecision = 18;

    private const byte FormatVersion = 1;

    /// <summary>The sparse table's first size, in slots.</summary>
    private const int FirstTableSize = 4;

    /// <summary>The registers while dense; <see langword="null"/> while sparse.</summary>
    private byte[]? _registers;

    /// <summary>
    /// While sparse, the set registers as <c>index &lt;&lt; 8 | rank</c> in an open-addressing table (linear probing,
    /// at most half full, a power of two long; 0 is an empty slot, as no set register has rank 0).
    /// </summary>
    private uint[]? _table;

    /// <summary>The number of set registers in <see cref="_table"/>.</summary>
    private int _tableCount;

    private int _precision;

    /// <summary>Initializes an empty sketch.</summary>
    /// <param name="precision">Log2 of the register count, from <see cref="MinPrecision"/> to <see cref="MaxPrecision"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The precision is out of range.</exception>
    public HyperLogLogSketch(int precision = DefaultPrecision)
    {
        ValidatePrecision(precision);
        _precision = precision;
        if (MaxTableSize(precision) >= FirstTableSize)
        {
            _table = new uint[FirstTableSize];
        }
        else
        {
            _registers = new byte[1 << precision];
        }
    }

    private HyperLogLogSketch(int precision, byte[] registers)
    {
        _precision = precision;
        _registers = registers;
    }

    private HyperLogLogSketch(int precision, uint[] table, int count)
    {
        _precision = precision;
        _table = table;
        _tableCount = count;
    }

    /// <summary>Gets log2 of the number of registers.</summary>
    public int Precision => _precision;

    /// <summary>Gets the number of registers.</summary>
    public int RegisterCount => 1 << _precision;

    /// <summary>Gets the relative standard error of the estimate, <c>1.04 / sqrt(RegisterCount)</c>.</summary>
    public double StandardError => StandardErrorOf(_precision);

    /// <summary>Gets whether nothing has been added.</summary>
    public bool IsEmpty => _registers is null ? _tableCount == 0 : _registers.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Gets the number of bytes <see cref="Serialize()"/> produces.</summary>
    public int SerializedSize => SketchFormat.OverheadSize + 1 + RegisterCount;

    /// <summary>Gets whether the sketch keeps its set registers in the sparse table (for tests).</summary>
    internal bool IsSparse => _registers is null;

    /// <summary>The relative standard error of a sketch of the given precision.</summary>
    /// <param name="precision">The precision.</param>
    /// <returns><c>1.04 / sqrt(2^precision)</c>.</returns>
    public static double StandardErrorOf(int precision) => 1.04 / Math.Sqrt(1 << precision);

    /// <summary>Throws when a precision is out of range; used by options validation.</summary>
    /// <param name="precision">The precision.</param>
    /// <exception cref="ArgumentOutOfRangeException">The precision is out of range.</exception>
    internal static void ValidatePrecision(int precision)
    {
        if (precision is < MinPrecision or > MaxPrecision)
        {
            throw new ArgumentOutOfRangeException(
                nameof(precision),
                precision,
                $"HyperLogLog precision must be between {MinPrecision} and {MaxPrecision} (2^precision registers); use {DefaultPrecision} for 0.81% standard error in 16 KiB.");
        }
    }

    /// <summary>Adds a value by its 64-bit hash (from <see cref="SketchHash"/>, or any well-mixed 64-bit hash).</summary>
    /// <param name="hash">The hash.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddHash(ulong hash)
    {
        int p = _precision;
        int index = (int)(hash >> (64 - p));
        ulong rest = (hash << p) | (1UL << (p - 1));
        byte rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        byte[]? registers = _registers;
        if (registers is null)
        {
            SetSparse(index, rank);
            return;
        }

        ref byte register = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(registers), index);
        if (rank > register)
        {
            register = rank;
        }
    }

    /// <summary>Adds a string (hashed over its UTF-16 code units); <see langword="null"/> is ignored.</summary>
    /// <param name="value">The value.</param>
    public void Add(string? value)
    {
        if (value is not null)
        {
            AddHash(SketchHash.Hash(value.AsSpan()));
        }
    }

    /// <summary>Adds a character sequence (hashed like the equal string).</summary>
    /// <param name="value">The value.</param>
    public void Add(ReadOnlySpan<char> value) => AddHash(SketchHash.Hash(value));

    /// <summary>Adds a byte sequence, such as a UTF-8 identifier.</summary>
    /// <param name="value">The value.</param>
    public void Add(ReadOnlySpan<byte> value) => AddHash(SketchHash.Hash(value));

    /// <summary>Adds a 64-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void Add(long value) => AddHash(SketchHash.Hash(value));

    /// <summary>Adds a double by value; NaN and infinities are ignored.</summary>
    /// <param name="value">The value.</param>
    public void Add(double value)
    {
        if (double.IsFinite(value))
        {
            AddHash(SketchHash.Hash(value));
        }
    }

    /// <summary>Adds a GUID.</summary>
    /// <param name="value">The value.</param>
    public void Add(Guid value) => AddHash(SketchHash.Hash(value));

    /// <summary>Estimates the number of distinct values added.</summary>
    /// <returns>The estimate, rounded; 0 for an empty sketch.</returns>
    /// <remarks>O(register count); call it when a window closes, not per event.</remarks>
    public long Estimate()
    {
        int p = _precision;
        int q = 64 - p;
        int m = RegisterCount;
        Span<int> histogram = stackalloc int[66];
        histogram.Clear();
        if (_registers is null)
        {
            histogram[0] = m - _tableCount;
            foreach (uint entry in _table!)
            {
                if (entry != 0)
                {
                    histogram[(int)(entry & 0xFF)]++;
                }
            }
        }
        else
        {
            foreach (byte r in _registers)
            {
                histogram[r]++;
            }
        }

        double z = m * Tau(1.0 - ((double)histogram[q + 1] / m));
        for (int k = q; k >= 1; k--)
        {
            z += histogram[k];
            z *= 0.5;
        }

        z += m * Sigma((double)histogram[0] / m);
        if (double.IsPositiveInfinity(z))
        {
            return 0;
        }

        double alphaInfinity = 0.5 / Math.Log(2);
        return (long)Math.Round(alphaInfinity * m * (double)m / z);
    }

    /// <summary>Merges another sketch into this one (register-wise maximum).</summary>
    /// <param name="other">The sketch to merge in; not modified.</param>
    /// <remarks>
    /// When <paramref name="other"/> has a lower precision, this sketch is first folded down to it (one allocation);
    /// two dense sketches of equal precision merge without allocating. A sparse sketch stays sparse while the union
    /// fits its table.
    /// </remarks>
    public void Merge(HyperLogLogSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
        {
            return;
        }

        if (other._precision < _precision)
        {
            var folded = new HyperLogLogSketch(other._precision);
            folded.SetAll(this);
            (_registers, _table, _tableCount, _precision) = (folded._registers, folded._table, folded._tableCount, folded._precision);
        }

        if (other._registers is { } theirs && other._precision == _precision)
        {
            MaxInto(Densify(), theirs);
        }
        else
        {
            SetAll(other);
        }
    }

    /// <summary>Removes every value, keeping the precision and the memory already taken.</summary>
    public void Clear()
    {
        if (_registers is null)
        {
            Array.Clear(_table!);
            _tableCount = 0;
        }
        else
        {
            Array.Clear(_registers);
        }
    }

    /// <summary>Creates an independent copy.</summary>
    /// <returns>The copy.</returns>
    public HyperLogLogSketch Clone() => _registers is null
        ? new(_precision, (uint[])_table!.Clone(), _tableCount)
        : new(_precision, (byte[])_registers.Clone());

    /// <summary>Serializes the sketch into a new array (see <see cref="TrySerialize"/> for the layout).</summary>
    /// <returns>The bytes.</returns>
    public byte[] Serialize()
    {
        byte[] bytes = new byte[SerializedSize];
        TrySerialize(bytes, out _);
        return bytes;
    }

    /// <summary>
    /// Writes the binary form: the envelope header (<c>"ASSK"</c>, kind 1, version 1), the precision (1 byte), the
    /// registers (one byte each), and an 8-byte checksum.
    /// </summary>
    /// <param name="destination">Where to write; at least <see cref="SerializedSize"/> bytes.</param>
    /// <param name="bytesWritten">The number of bytes written.</param>
    /// <returns><see langword="false"/> (and nothing written) when the destination is too small.</returns>
    public bool TrySerialize(Span<byte> destination, out int bytesWritten)
    {
        int size = SerializedSize;
        if (destination.Length < size)
        {
            bytesWritten = 0;
            return false;
        }

        Span<byte> whole = destination.Slice(0, size);
        SketchFormat.WriteHeader(whole, SketchKind.HyperLogLog, FormatVersion);
        var writer = new SketchWriter(whole.Slice(SketchFormat.HeaderSize));
        writer.WriteByte((byte)_precision);
        Span<byte> registers = writer.Reserve(RegisterCount);
        if (_registers is null)
        {
            registers.Clear();
            CopyTableInto(registers);
        }
        else
        {
            _registers.CopyTo(registers);
        }

        SketchFormat.WriteChecksum(whole);
        bytesWritten = size;
        return true;
    }

    /// <summary>Reads a sketch written by <see cref="Serialize()"/>.</summary>
    /// <param name="source">The bytes.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="SketchFormatException">The bytes are truncated, corrupted, of another kind or version, or hold invalid registers.</exception>
    public static HyperLogLogSketch Deserialize(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<byte> payload = SketchFormat.OpenEnvelope(source, SketchKind.HyperLogLog, FormatVersion, out _);
        var reader = new SketchReader(payload, "HyperLogLog");
        int precision = reader.ReadByte();
        if (precision is < MinPrecision or > MaxPrecision)
        {
            throw reader.Invalid($"precision {precision} is outside {MinPrecision}..{MaxPrecision}");
        }

        ReadOnlySpan<byte> registers = reader.ReadBytes(1 << precision);
        reader.EnsureEnd();
        int maxRank = 64 - precision + 1;
        int bad = registers.IndexOfAnyInRange((byte)(maxRank + 1), byte.MaxValue);
        if (bad >= 0)
        {
            throw reader.Invalid(string.Create(
                CultureInfo.InvariantCulture,
                $"register {bad} holds {registers[bad]}, above the maximum rank {maxRank} for precision {precision}"));
        }

        return new HyperLogLogSketch(precision, registers.ToArray());
    }

    /// <summary>
    /// Writes the sketch into checkpoint state (the checkpoint carries its own checksum and version): the precision,
    /// then either every register (dense) or, when at most a quarter are set, the count of set registers and each as
    /// (gap to the previous index, value) - a sketch of a few values takes a few bytes instead of 2^precision. A sparse
    /// sketch (at most a sixteenth set) always writes the second form, as the same registers held densely would.
    /// </summary>
    internal void WriteState(System.Buffers.IBufferWriter<byte> destination)
    {
        byte[]? registers = _registers;
        int set = registers is null ? _tableCount : registers.Length - registers.AsSpan().Count((byte)0);
        var header = destination.GetSpan(2);
        header[0] = (byte)_precision;
        header[1] = set <= RegisterCount / 4 ? (byte)1 : (byte)0;
        destination.Advance(2);
        if (header[1] == 0)
        {
            // Only a dense sketch has more than a quarter of its registers set.
            System.Buffers.BuffersExtensions.Write(destination, registers);
            return;
        }

        StateCodec.WriteVarInt(destination, (ulong)set);
        int previous = 0;
        if (registers is not null)
        {
            for (int i = NextSet(registers, 0); i >= 0; i = NextSet(registers, i + 1))
            {
                WriteRegister(destination, i, registers[i], ref previous);
            }

            return;
        }

        uint[] rented = System.Buffers.ArrayPool<uint>.Shared.Rent(set);
        try
        {
            int n = 0;
            foreach (uint entry in _table!)
            {
                if (entry != 0)
                {
                    rented[n++] = entry;
                }
            }

            // The index is in the high bits, so the entries sort by index.
            Span<uint> entries = rented.AsSpan(0, n);
            entries.Sort();
            foreach (uint entry in entries)
            {
                WriteRegister(destination, (int)(entry >> 8), (byte)entry, ref previous);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<uint>.Shared.Return(rented);
        }

        static void WriteRegister(System.Buffers.IBufferWriter<byte> destination, int index, byte rank, ref int previous)
        {
            StateCodec.WriteVarInt(destination, (ulong)(index - previous));
            var value = destination.GetSpan(1);
            value[0] = rank;
            destination.Advance(1);
            previous = index;
        }
    }

    /// <summary>
    /// Reads what <see cref="WriteState"/> wrote: the sparse form into a sparse sketch when its registers fit the
    /// largest table, into registers otherwise.
    /// </summary>
    internal static HyperLogLogSketch ReadState(ref ReadOnlySpan<byte> source)
    {
        if (source.Length < 2 || source[0] is < MinPrecision or > MaxPrecision || source[1] > 1)
        {
            throw new FormatException("A HyperLogLog sketch in the state has a bad header.");
        }

        int precision = source[0];
        bool sparse = source[1] == 1;
        source = source[2..];
        int m = 1 << precision;
        int maxRank = 64 - precision + 1;
        if (!sparse)
        {
            if (source.Length < m)
            {
                throw new FormatException("The state ends inside a HyperLogLog sketch.");
            }

            byte[] registers = source[..m].ToArray();
            source = source[m..];
            if (registers.AsSpan().IndexOfAnyInRange((byte)(maxRank + 1), byte.MaxValue) >= 0)
            {
                throw new FormatException($"A HyperLogLog register in the state is above the maximum rank {maxRank}.");
            }

            return new HyperLogLogSketch(precision, registers);
        }

        ulong count = StateCodec.ReadVarInt(ref source);
        int maxTable = MaxTableSize(precision);
        HyperLogLogSketch sketch;
        if (maxTable >= FirstTableSize && count <= (ulong)maxTable / 2)
        {
            int size = Math.Max(FirstTableSize, (int)BitOperations.RoundUpToPowerOf2((uint)count * 2));
            sketch = new HyperLogLogSketch(precision, new uint[size], 0);
        }
        else
        {
            sketch = new HyperLogLogSketch(precision, new byte[m]);
        }

        long index = 0;
        for (ulong i = 0; i < count; i++)
        {
            ulong gap = StateCodec.ReadVarInt(ref source);
            index += gap < (ulong)m ? (long)gap : m;
            if ((i > 0 && gap == 0) || index >= m || source.IsEmpty || source[0] == 0)
            {
                throw new FormatException("A sparse HyperLogLog sketch in the state is malformed.");
            }

            if (source[0] > maxRank)
            {
                throw new FormatException($"A HyperLogLog register in the state is above the maximum rank {maxRank}.");
            }

            sketch.Set((int)index, source[0]);
            source = source[1..];
        }

        return sketch;
    }

    /// <summary>Merges two serialized sketches into the serialized sketch of the union.</summary>
    /// <param name="left">A serialized sketch.</param>
    /// <param name="right">Another serialized sketch.</param>
    /// <returns>The serialized merge.</returns>
    /// <exception cref="SketchFormatException">Either input is invalid.</exception>
    public static byte[] MergeSerialized(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        HyperLogLogSketch sketch = Deserialize(left);
        sketch.Merge(Deserialize(right));
        return sketch.Serialize();
    }

    private static void MaxInto(byte[] target, byte[] source)
    {
        Span<byte> t = target;
        ReadOnlySpan<byte> s = source;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= t.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Max(new Vector<byte>(t.Slice(i)), new Vector<byte>(s.Slice(i))).CopyTo(t.Slice(i));
            }
        }

        for (; i < t.Length; i++)
        {
            if (s[i] > t[i])
            {
                t[i] = s[i];
            }
        }
    }

    /// <summary>The largest sparse table for a precision, in slots: its 4-byte slots then take half the registers' bytes.</summary>
    private static int MaxTableSize(int precision) => (1 << precision) / 8;

    /// <summary>Raises one register to <paramref name="rank"/> if it is lower, in whichever form the sketch is.</summary>
    private void Set(int index, byte rank)
    {
        if (_registers is { } registers)
        {
            if (rank > registers[index])
            {
                registers[index] = rank;
            }
        }
        else
        {
            SetSparse(index, rank);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SetSparse(int index, byte rank)
    {
        uint[] table = _table!;
        int mask = table.Length - 1;
        int slot = index & mask;
        for (uint entry = table[slot]; entry != 0; entry = table[slot])
        {
            if ((int)(entry >> 8) == index)
            {
                if (rank > (byte)entry)
                {
                    table[slot] = ((uint)index << 8) | rank;
                }

                return;
            }

            slot = (slot + 1) & mask;
        }

        if ((_tableCount + 1) * 2 <= table.Length)
        {
            table[slot] = ((uint)index << 8) | rank;
            _tableCount++;
        }
        else if (table.Length * 2 <= MaxTableSize(_precision))
        {
            Rehash(table.Length * 2);
            SetSparse(index, rank);
        }
        else
        {
            Densify()[index] = rank;
        }
    }

    private void Rehash(int size)
    {
        uint[] old = _table!;
        _table = new uint[size];
        _tableCount = 0;
        foreach (uint entry in old)
        {
            if (entry != 0)
            {
                SetSparse((int)(entry >> 8), (byte)entry);
            }
        }
    }

    /// <summary>Turns the sketch dense (once) and returns its registers.</summary>
    private byte[] Densify()
    {
        if (_registers is { } registers)
        {
            return registers;
        }

        registers = new byte[RegisterCount];
        CopyTableInto(registers);
        _registers = registers;
        _table = null;
        _tableCount = 0;
        return registers;
    }

    /// <summary>Writes the sparse table's registers into <paramref name="registers"/> (the unset ones are left as they are).</summary>
    private void CopyTableInto(Span<byte> registers)
    {
        foreach (uint entry in _table!)
        {
            if (entry != 0)
            {
                registers[(int)(entry >> 8)] = (byte)entry;
            }
        }
    }

    /// <summary>The first set register at or after <paramref name="from"/>; -1 when there is none.</summary>
    private static int NextSet(ReadOnlySpan<byte> registers, int from)
    {
        int found = registers[from..].IndexOfAnyExcept((byte)0);
        return found < 0 ? -1 : from + found;
    }

    /// <summary>
    /// Raises this sketch's registers to those of <paramref name="source"/>, whose precision is this one's or higher:
    /// a register of a finer sketch folds into the register its index prefix selects, its rank extended by the index
    /// bits dropped (the rank the value would have had at this precision).
    /// </summary>
    private void SetAll(HyperLogLogSketch source)
    {
        int shift = source._precision - _precision;
        if (source._registers is { } registers)
        {
            for (int i = NextSet(registers, 0); i >= 0; i = NextSet(registers, i + 1))
            {
                SetFolded(i, registers[i], shift);
            }
        }
        else
        {
            foreach (uint entry in source._table!)
            {
                if (entry != 0)
                {
                    SetFolded((int)(entry >> 8), (byte)entry, shift);
                }
            }
        }
    }

    private void SetFolded(int index, byte rank, int shift)
    {
        if (shift == 0)
        {
            Set(index, rank);
            return;
        }

        int low = index & ((1 << shift) - 1);
        int folded = low != 0 ? shift - (32 - BitOperations.LeadingZeroCount((uint)low)) + 1 : shift + rank;
        Set(index >> shift, (byte)folded);
    }

    private static double Sigma(double x)
    {
        if (x == 1.0)
        {
            return double.PositiveInfinity;
        }

        double y = 1.0;
        double z = x;
        double previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (z != previous);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0)
        {
            return 0.0;
        }

        double y = 1.0;
        double z = 1.0 - x;
        double previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            double d = 1.0 - x;
            z -= d * d * y;
        }
        while (z != previous);
        return z / 3.0;
    }
}
