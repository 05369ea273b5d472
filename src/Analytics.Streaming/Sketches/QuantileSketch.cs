using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Sketches;

/// <summary>
/// A mergeable quantile sketch with a relative-error guarantee (DDSketch: logarithmic buckets of ratio
/// <c>gamma = (1 + a) / (1 - a)</c>), plus exact count, minimum and maximum, and the sum (a double: rounding may depend
/// on the order values and merges come in).
/// </summary>
/// <remarks>
/// <para>
/// Every quantile it returns is within a relative error <c>a</c> (<see cref="RelativeAccuracy"/>, default 1%) of a
/// value whose rank is the requested rank, as long as the bucket range has not collapsed (see
/// <see cref="IsCollapsed"/>). With <c>MaxBins</c> buckets per sign the sketch covers a dynamic range of
/// <c>gamma^MaxBins</c> (about 8e8 at 1% and 1024 buckets, for example 1 microsecond to 13 minutes in milliseconds);
/// beyond that the lowest buckets are merged, which keeps the upper quantiles exact to <c>a</c> and makes the lowest
/// ones coarser.
/// </para>
/// <para>
/// Memory: the bucket array for positive values covers the range of buckets in use. It starts at 16 buckets
/// (128 bytes) and doubles while the values spread out, up to <c>MaxBins</c> 64-bit counts (8 KiB by default), so a
/// sketch per key and window of a few similar values stays small. The array for negative values is made the first
/// time a negative value is added (never for latencies, sizes or durations). <see cref="Add(double)"/> allocates
/// only when an array grows: a few times per sketch at most.
/// Values whose magnitude is below about 2.2e-308 count as zero. NaN and infinities are ignored and counted in
/// <see cref="IgnoredCount"/>.
/// </para>
/// <para>
/// <see cref="Merge"/> adds bucket counts, so it is associative and commutative, and the merge of sketches equals
/// the sketch of the union exactly (when neither collapsed). Sketches merge only with the same relative accuracy.
/// Not thread-safe.
/// </para>
/// </remarks>
public sealed class QuantileSketch
{
    /// <summary>The default relative accuracy, 1%.</summary>
    public const double DefaultRelativeAccuracy = 0.01;

    /// <summary>The default number of buckets per sign.</summary>
    public const int DefaultMaxBins = 1024;

    private const byte FormatVersion = 1;
    private const double MinIndexableValue = 2.2250738585072014E-308 * 1.1;

    private readonly double _relativeAccuracy;
    private readonly double _gamma;
    private readonly double _inverseLogGamma;
    private readonly int _maxBins;
    private readonly BinStore _positive;
    private BinStore? _negative;
    private long _zeroCount;
    private long _count;
    private double _sum;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private long _ignored;

    /// <summary>Initializes an empty sketch.</summary>
    /// <param name="relativeAccuracy">The relative accuracy, greater than 0 and less than 1 (0.01 = 1%).</param>
    /// <param name="maxBins">The maximum number of buckets per sign, from 16 to 65536.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public QuantileSketch(double relativeAccuracy = DefaultRelativeAccuracy, int maxBins = DefaultMaxBins)
    {
        Validate(relativeAccuracy, maxBins);
        _relativeAccuracy = relativeAccuracy;
        _gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
        _inverseLogGamma = 1.0 / Math.Log(_gamma);
        _maxBins = maxBins;
        _positive = new BinStore(maxBins);
    }

    /// <summary>Gets the relative accuracy guaranteed for quantiles.</summary>
    public double RelativeAccuracy => _relativeAccuracy;

    /// <summary>Gets the maximum number of buckets per sign.</summary>
    public int MaxBins => _maxBins;

    /// <summary>Gets the number of values added (NaN and infinities excluded).</summary>
    public long Count => _count;

    /// <summary>Gets the exact sum of the values added.</summary>
    public double Sum => _sum;

    /// <summary>Gets the exact smallest value added; positive infinity when empty.</summary>
    public double Min => _min;

    /// <summary>Gets the exact largest value added; negative infinity when empty.</summary>
    public double Max => _max;

    /// <summary>Gets the number of NaN or infinite values that were ignored.</summary>
    public long IgnoredCount => _ignored;

    /// <summary>Gets whether the bucket range overflowed and the lowest buckets were merged (lowest quantiles coarser).</summary>
    public bool IsCollapsed => _positive.Collapsed || (_negative?.Collapsed ?? false);

    /// <summary>Gets the number of bytes <see cref="Serialize()"/> produces.</summary>
    public int SerializedSize
        => SketchFormat.OverheadSize + 8 + 4 + (5 * 8) + 8 + _positive.SerializedSize + (_negative?.SerializedSize ?? BinStore.EmptySerializedSize);

    /// <summary>Throws when the configuration is invalid; used by options validation.</summary>
    /// <param name="relativeAccuracy">The relative accuracy.</param>
    /// <param name="maxBins">The maximum number of buckets per sign.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    internal static void Validate(double relativeAccuracy, int maxBins)
    {
        if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(relativeAccuracy),
                relativeAccuracy,
                "The relative accuracy must be greater than 0 and less than 1; use 0.01 for quantiles within 1%.");
        }

        if (maxBins is < 16 or > 65536)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxBins),
                maxBins,
                "The bucket count must be between 16 and 65536; the default 1024 covers 8 decades at 1% accuracy.");
        }
    }

    /// <summary>Adds a value; NaN and infinities are ignored.</summary>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            _ignored++;
            return;
        }

        if (value > MinIndexableValue)
        {
            _positive.Add(IndexOf(value), 1);
        }
        else if (value < -MinIndexableValue)
        {
            (_negative ??= new BinStore(_maxBins)).Add(IndexOf(-value), 1);
        }
        else
        {
            _zeroCount++;
        }

        _count++;
        _sum += value;
        if (value < _min)
        {
            _min = value;
        }

        if (value > _max)
        {
            _max = value;
        }
    }

    /// <summary>Gets the value at a quantile.</summary>
    /// <param name="quantile">The quantile, from 0 to 1 (0.99 for the 99th percentile).</param>
    /// <returns>The value within the relative accuracy, clamped to [<see cref="Min"/>, <see cref="Max"/>]; NaN when empty or when the quantile is outside [0, 1].</returns>
    public double GetQuantile(double quantile)
    {
        if (_count == 0 || !(quantile >= 0 && quantile <= 1))
        {
            return double.NaN;
        }

        double rank = quantile * (_count - 1);
        long seen = 0;
        double result = 0;
        bool found = false;
        if (_negative is not null)
        {
            found = _negative.FindDescending(rank, ref seen, out int index);
            if (found)
            {
                result = -ValueOf(index);
            }
        }

        if (!found)
        {
            seen += _zeroCount;
            if (seen > rank)
            {
                result = 0;
                found = true;
            }
        }

        if (!found)
        {
            found = _positive.FindAscending(rank, ref seen, out int index);
            result = found ? ValueOf(index) : _max;
        }

        return Math.Clamp(result, _min, _max);
    }

    /// <summary>Summarizes the sketch: count, sum, min, max and the 50th, 90th, 99th and 99.9th percentiles.</summary>
    /// <returns>The summary.</returns>
    public QuantileSummary Summarize()
        => new(_count, _sum, _count == 0 ? double.NaN : _min, _count == 0 ? double.NaN : _max, GetQuantile(0.5), GetQuantile(0.9), GetQuantile(0.99), GetQuantile(0.999));

    /// <summary>Merges another sketch into this one.</summary>
    /// <param name="other">The sketch to merge in; not modified.</param>
    /// <exception cref="ArgumentException">The sketches have different relative accuracies.</exception>
    public void Merge(QuantileSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._relativeAccuracy != _relativeAccuracy || other._maxBins != _maxBins)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Cannot merge a quantile sketch of relative accuracy {other._relativeAccuracy} and {other._maxBins} buckets into one of {_relativeAccuracy} and {_maxBins}; build both alike (with other bucket limits the merge would depend on its order)."),
                nameof(other));
        }

        _positive.MergeFrom(other._positive);
        if (other._negative is not null)
        {
            (_negative ??= new BinStore(_maxBins)).MergeFrom(other._negative);
        }

        _zeroCount += other._zeroCount;
        _count += other._count;
        _sum += other._sum;
        _ignored += other._ignored;
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
    }

    /// <summary>Removes every value, keeping the configuration and the arrays.</summary>
    public void Clear()
    {
        _positive.Clear();
        _negative?.Clear();
        _zeroCount = 0;
        _count = 0;
        _sum = 0;
        _ignored = 0;
        _min = double.PositiveInfinity;
        _max = double.NegativeInfinity;
    }

    /// <summary>Creates an independent copy.</summary>
    /// <returns>The copy.</returns>
    public QuantileSketch Clone()
    {
        var copy = new QuantileSketch(_relativeAccuracy, _maxBins);
        copy.Merge(this);
        copy._positive.Collapsed = _positive.Collapsed;
        if (copy._negative is not null)
        {
            copy._negative.Collapsed = _negative!.Collapsed;
        }

        return copy;
    }

    /// <summary>Serializes the sketch into a new array (see <see cref="TrySerialize"/> for the layout).</summary>
    /// <returns>The bytes.</returns>
    public byte[] Serialize()
    {
        byte[] bytes = new byte[SerializedSize];
        TrySerialize(bytes, out _);
        return bytes;
    }

    /// <summary>
    /// Writes the binary form: envelope header (<c>"ASSK"</c>, kind 2, version 1); relative accuracy (float64);
    /// max bins (int32); count, sum, min, max (int64, 3 x float64); ignored count and zero count (int64); the
    /// positive then the negative store, each as flags (1 byte, bit 0 = collapsed), first index (int32), bucket
    /// count n (int32) and n int64 counts; then an 8-byte checksum. Little-endian.
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
        SketchFormat.WriteHeader(whole, SketchKind.Quantile, FormatVersion);
        var writer = new SketchWriter(whole.Slice(SketchFormat.HeaderSize));
        writer.WriteDouble(_relativeAccuracy);
        writer.WriteInt32(_maxBins);
        writer.WriteInt64(_count);
        writer.WriteDouble(_sum);
        writer.WriteDouble(_min);
        writer.WriteDouble(_max);
        writer.WriteInt64(_ignored);
        writer.WriteInt64(_zeroCount);
        _positive.Write(ref writer);
        if (_negative is null)
        {
            BinStore.WriteEmpty(ref writer);
        }
        else
        {
            _negative.Write(ref writer);
        }

        SketchFormat.WriteChecksum(whole);
        bytesWritten = size;
        return true;
    }

    /// <summary>Reads a sketch written by <see cref="Serialize()"/>.</summary>
    /// <param name="source">The bytes.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="SketchFormatException">The bytes are truncated, corrupted, of another kind or version, or inconsistent.</exception>
    public static QuantileSketch Deserialize(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<byte> payload = SketchFormat.OpenEnvelope(source, SketchKind.Quantile, FormatVersion, out _);
        var reader = new SketchReader(payload, "quantile");
        double accuracy = reader.ReadDouble();
        int maxBins = reader.ReadInt32();
        if (!(accuracy > 0 && accuracy < 1) || maxBins is < 16 or > 65536)
        {
            throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"relative accuracy {accuracy} or bucket count {maxBins} is out of range"));
        }

        var sketch = new QuantileSketch(accuracy, maxBins)
        {
            _count = reader.ReadInt64(),
            _sum = reader.ReadDouble(),
            _min = reader.ReadDouble(),
            _max = reader.ReadDouble(),
            _ignored = reader.ReadInt64(),
            _zeroCount = reader.ReadInt64(),
        };
        long binTotal = sketch._positive.Read(ref reader);
        var negative = new BinStore(maxBins);
        long negativeTotal = negative.Read(ref reader);
        reader.EnsureEnd();
        if (negativeTotal > 0)
        {
            sketch._negative = negative;
        }

        if (sketch._count < 0 || sketch._ignored < 0 || sketch._zeroCount < 0 || binTotal + negativeTotal + sketch._zeroCount != sketch._count)
        {
            throw reader.Invalid("the bucket counts do not add up to the total count");
        }

        if (sketch._count > 0 && !(sketch._min <= sketch._max))
        {
            throw reader.Invalid("the minimum is greater than the maximum");
        }

        return sketch;
    }

    /// <summary>Merges two serialized sketches into the serialized sketch of the union.</summary>
    /// <param name="left">A serialized sketch.</param>
    /// <param name="right">Another serialized sketch of the same relative accuracy.</param>
    /// <returns>The serialized merge.</returns>
    /// <exception cref="SketchFormatException">Either input is invalid.</exception>
    /// <exception cref="ArgumentException">The sketches have different relative accuracies.</exception>
    public static byte[] MergeSerialized(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        QuantileSketch sketch = Deserialize(left);
        sketch.Merge(Deserialize(right));
        return sketch.Serialize();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IndexOf(double magnitude) => (int)Math.Ceiling(Math.Log(magnitude) * _inverseLogGamma);

    private double ValueOf(int index) => 2.0 * Math.Pow(_gamma, index) / (1 + _gamma);

    /// <summary>
    /// Dense bucket counts over a sliding range of indexes. The array starts small and doubles while the range in use
    /// outgrows it, up to <c>capacity</c> buckets; past that the lowest buckets collapse. The counts, and so every
    /// answer and the binary form, are those of an array of <c>capacity</c> buckets from the start.
    /// </summary>
    private sealed class BinStore(int capacity)
    {
        public const int EmptySerializedSize = 1 + 4 + 4;

        /// <summary>The first array's length: 128 bytes, a range of 16 buckets (values within about 38% of each other at 1% accuracy).</summary>
        private const int FirstLength = 16;

        private long[] _counts = new long[Math.Min(capacity, FirstLength)];
        private int _offset;
        private int _minIndex = int.MaxValue;
        private int _maxIndex = int.MinValue;

        public bool Collapsed { get; set; }

        public bool IsEmpty => _minIndex > _maxIndex;

        public int SerializedSize => EmptySerializedSize + (IsEmpty ? 0 : 8 * (_maxIndex - _minIndex + 1));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int index, long count)
        {
            int slot = index - _offset;
            if ((uint)slot >= (uint)_counts.Length || IsEmpty)
            {
                slot = Extend(index);
            }
            else
            {
                if (index < _minIndex)
                {
                    _minIndex = index;
                }

                if (index > _maxIndex)
                {
                    _maxIndex = index;
                }
            }

            _counts[slot] += count;
        }

        public bool FindAscending(double rank, ref long seen, out int index)
        {
            for (int i = _minIndex; i <= _maxIndex; i++)
            {
                seen += _counts[i - _offset];
                if (seen > rank)
                {
                    index = i;
                    return true;
                }
            }

            index = 0;
            return false;
        }

        public bool FindDescending(double rank, ref long seen, out int index)
        {
            for (int i = _maxIndex; i >= _minIndex; i--)
            {
                seen += _counts[i - _offset];
                if (seen > rank)
                {
                    index = i;
                    return true;
                }
            }

            index = 0;
            return false;
        }

        public void MergeFrom(BinStore other)
        {
            for (int i = other._minIndex; i <= other._maxIndex; i++)
            {
                long count = other._counts[i - other._offset];
                if (count != 0)
                {
                    Add(i, count);
                }
            }

            Collapsed |= other.Collapsed;
        }

        public void Clear()
        {
            Array.Clear(_counts);
            _minIndex = int.MaxValue;
            _maxIndex = int.MinValue;
            _offset = 0;
            Collapsed = false;
        }

        public static void WriteEmpty(ref SketchWriter writer)
        {
            writer.WriteByte(0);
            writer.WriteInt32(0);
            writer.WriteInt32(0);
        }

        public void Write(ref SketchWriter writer)
        {
            writer.WriteByte(Collapsed ? (byte)1 : (byte)0);
            if (IsEmpty)
            {
                writer.WriteInt32(0);
                writer.WriteInt32(0);
                return;
            }

            writer.WriteInt32(_minIndex);
            writer.WriteInt32(_maxIndex - _minIndex + 1);
            for (int i = _minIndex; i <= _maxIndex; i++)
            {
                writer.WriteInt64(_counts[i - _offset]);
            }
        }

        public long Read(ref SketchReader reader)
        {
            byte flags = reader.ReadByte();
            if (flags > 1)
            {
                throw reader.Invalid("unknown bucket store flags");
            }

            Collapsed = flags == 1;
            int first = reader.ReadInt32();
            int length = reader.ReadInt32();
            if (length < 0 || length > capacity || (long)first + length - 1 > int.MaxValue)
            {
                throw reader.Invalid(string.Create(CultureInfo.InvariantCulture, $"a bucket range of {length} buckets does not fit the {capacity} allowed"));
            }

            long total = 0;
            for (int i = 0; i < length; i++)
            {
                long count = reader.ReadInt64();
                if (count < 0)
                {
                    throw reader.Invalid("a bucket count is negative");
                }

                if (count > 0)
                {
                    Add(first + i, count);
                    total += count;
                }
            }

            return total;
        }

        private int Extend(int index)
        {
            int length = _counts.Length;
            if (IsEmpty)
            {
                Array.Clear(_counts);
                _offset = index - (length / 2);
                _minIndex = index;
                _maxIndex = index;
                return index - _offset;
            }

            int newMin = Math.Min(_minIndex, index);
            int newMax = Math.Max(_maxIndex, index);
            long range = (long)newMax - newMin + 1;
            if (range > length && length < capacity)
            {
                // Grow (a power of two at least twice the range, at most the capacity), keeping the counts in place.
                var counts = new long[(int)Math.Min((ulong)capacity, BitOperations.RoundUpToPowerOf2((ulong)range * 2))];
                Array.Copy(_counts, _minIndex - _offset, counts, _minIndex - _offset, _maxIndex - _minIndex + 1);
                _counts = counts;
                length = counts.Length;
            }

            if (range <= length)
            {
                int newOffset = newMin - ((length - (newMax - newMin + 1)) / 2);
                Shift(newOffset);
                _minIndex = newMin;
                _maxIndex = newMax;
                return index - _offset;
            }

            // The range overflows: keep the highest buckets, merge everything below into the lowest kept bucket.
            Collapsed = true;
            int offset = newMax - length + 1;
            long below = 0;
            for (int i = _minIndex; i < Math.Min(offset, _maxIndex + 1); i++)
            {
                below += _counts[i - _offset];
            }

            Shift(offset);
            _minIndex = offset;
            _maxIndex = newMax;
            _counts[0] += below;
            return Math.Max(index, offset) - _offset;
        }

        private void Shift(int newOffset)
        {
            // Move the live range [minIndex, maxIndex] from the old offset to the new one; clear everything else.
            int keepFrom = Math.Max(_minIndex, newOffset);
            int keepTo = Math.Min(_maxIndex, newOffset + _counts.Length - 1);
            if (keepFrom <= keepTo)
            {
                int count = keepTo - keepFrom + 1;
                Array.Copy(_counts, keepFrom - _offset, _counts, keepFrom - newOffset, count);
                Array.Clear(_counts, 0, keepFrom - newOffset);
                int end = keepTo - newOffset + 1;
                Array.Clear(_counts, end, _counts.Length - end);
            }
            else
            {
                Array.Clear(_counts);
            }

            _offset = newOffset;
        }
    }
}

/// <summary>The summary of a <see cref="QuantileSketch"/>: exact count, sum, min and max, and approximate percentiles.</summary>
/// <param name="Count">The number of values.</param>
/// <param name="Sum">The exact sum.</param>
/// <param name="Min">The exact minimum; NaN when empty.</param>
/// <param name="Max">The exact maximum; NaN when empty.</param>
/// <param name="P50">The median, within the sketch's relative accuracy; NaN when empty.</param>
/// <param name="P90">The 90th percentile.</param>
/// <param name="P99">The 99th percentile.</param>
/// <param name="P999">The 99.9th percentile.</param>
public readonly record struct QuantileSummary(long Count, double Sum, double Min, double Max, double P50, double P90, double P99, double P999)
{
    /// <summary>Gets the exact mean; NaN when empty.</summary>
    public double Mean => Count == 0 ? double.NaN : Sum / Count;
}
