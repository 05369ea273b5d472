using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// Writes values of one CLR type into a leaf: <see cref="Check"/> validates without touching the leaf (so a bad record
/// is rejected whole), <see cref="Add"/> appends with levels and cannot fail on data.
/// </summary>
internal abstract class ElementWriter<TElement>
{
    protected const string NullInRequired = "holds a null but the column is REQUIRED; make it nullable or supply a value.";

    protected ElementWriter(LeafColumn leaf) => Leaf = leaf;

    public LeafColumn Leaf { get; }

    /// <summary>Gets a value indicating whether <see cref="Check"/> can reject a value (false lets callers skip it).</summary>
    public virtual bool CanReject => true;

    /// <summary>Returns why the value cannot be stored, or <see langword="null"/> when it can.</summary>
    public abstract string? Check(TElement value);

    /// <summary>Appends the value: present at <paramref name="maxDefinition"/>, null at one below.</summary>
    public abstract void Add(TElement value, int repetition, int maxDefinition);
}

internal sealed class StructElement<TElement, TOut, TConverter> : ElementWriter<TElement>
    where TConverter : IConverter<TElement, TOut>
{
    private readonly ValueLeaf<TOut> _leaf;

    public StructElement(ValueLeaf<TOut> leaf)
        : base(leaf) => _leaf = leaf;

    public override bool CanReject => false;

    public override string? Check(TElement value) => null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void Add(TElement value, int repetition, int maxDefinition) => _leaf.AddPresent(TConverter.Convert(value), repetition, maxDefinition);
}

internal sealed class NullableStructElement<TElement, TOut, TConverter> : ElementWriter<TElement?>
    where TElement : struct
    where TConverter : IConverter<TElement, TOut>
{
    private readonly ValueLeaf<TOut> _leaf;
    private readonly bool _nullable;

    public NullableStructElement(ValueLeaf<TOut> leaf, bool nullable)
        : base(leaf)
    {
        _leaf = leaf;
        _nullable = nullable;
    }

    public override string? Check(TElement? value) => value.HasValue || _nullable ? null : NullInRequired;

    public override void Add(TElement? value, int repetition, int maxDefinition)
    {
        if (value.HasValue)
        {
            _leaf.AddPresent(TConverter.Convert(value.GetValueOrDefault()), repetition, maxDefinition);
        }
        else
        {
            _leaf.AddNull(repetition, maxDefinition - 1);
        }
    }
}

internal sealed class StringElement : ElementWriter<string?>
{
    private readonly ValueLeaf<string> _leaf;
    private readonly bool _nullable;

    public StringElement(ValueLeaf<string> leaf, bool nullable)
        : base(leaf)
    {
        _leaf = leaf;
        _nullable = nullable;
    }

    public override string? Check(string? value) => value is null
        ? (_nullable ? null : NullInRequired)
        : Utf8Order.IsValid(value) ? null : "holds a string that is not valid UTF-16 (a lone surrogate), so it has no UTF-8 form.";

    public override void Add(string? value, int repetition, int maxDefinition)
    {
        if (value is not null)
        {
            _leaf.AddPresent(value, repetition, maxDefinition);
        }
        else
        {
            _leaf.AddNull(repetition, maxDefinition - 1);
        }
    }
}

internal sealed class BinaryElement : ElementWriter<byte[]?>
{
    private readonly ValueLeaf<byte[]> _leaf;
    private readonly bool _nullable;

    public BinaryElement(ValueLeaf<byte[]> leaf, bool nullable)
        : base(leaf)
    {
        _leaf = leaf;
        _nullable = nullable;
    }

    public override string? Check(byte[]? value) => value is null && !_nullable ? NullInRequired : null;

    public override void Add(byte[]? value, int repetition, int maxDefinition)
    {
        if (value is not null)
        {
            _leaf.AddPresent(value, repetition, maxDefinition);
        }
        else
        {
            _leaf.AddNull(repetition, maxDefinition - 1);
        }
    }
}

internal sealed class DecimalElement : ElementWriter<decimal?>
{
    private readonly LeafColumn _leaf;
    private readonly bool _nullable;
    private readonly int _precision;
    private readonly int _scale;

    public DecimalElement(LeafColumn leaf, bool nullable)
        : base(leaf)
    {
        _leaf = leaf;
        _nullable = nullable;
        _precision = leaf.Descriptor.Leaf.Precision;
        _scale = leaf.Descriptor.Leaf.Scale;
    }

    public override string? Check(decimal? value)
    {
        if (!value.HasValue)
        {
            return _nullable ? null : NullInRequired;
        }

        return DecimalConverter.TryUnscale(value.GetValueOrDefault(), _precision, _scale, out _, out string? reason) ? null : reason;
    }

    public override void Add(decimal? value, int repetition, int maxDefinition)
    {
        if (!value.HasValue)
        {
            _leaf.AddNull(repetition, maxDefinition - 1);
            return;
        }

        DecimalConverter.TryUnscale(value.GetValueOrDefault(), _precision, _scale, out var unscaled, out _);
        switch (_leaf)
        {
            case ValueLeaf<int> int32:
                int32.AddPresent((int)unscaled, repetition, maxDefinition);
                break;
            case ValueLeaf<long> int64:
                int64.AddPresent((long)unscaled, repetition, maxDefinition);
                break;
            case ValueLeaf<Int128> fixedLength:
                fixedLength.AddPresent(unscaled, repetition, maxDefinition);
                break;
            default:
                throw new InvalidOperationException("Unexpected decimal leaf.");
        }
    }
}

/// <summary>Adapts a non-nullable element writer to a writer of the same values (used for non-nullable decimals).</summary>
internal sealed class LiftedElement<TElement> : ElementWriter<TElement>
    where TElement : struct
{
    private readonly ElementWriter<TElement?> _inner;

    public LiftedElement(ElementWriter<TElement?> inner)
        : base(inner.Leaf) => _inner = inner;

    public override string? Check(TElement value) => _inner.Check(value);

    public override void Add(TElement value, int repetition, int maxDefinition) => _inner.Add(value, repetition, maxDefinition);
}

/// <summary>Creates leaves and element writers from a CLR type and the field it is bound to.</summary>
internal static class ElementWriters
{
    /// <summary>The kind a CLR type maps to by default, whether it admits null, or <see langword="null"/> when unsupported.</summary>
    public static (ParquetColumnKind Kind, bool Nullable)? KindOf(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        bool nullable = underlying is not null || !type.IsValueType;
        var t = underlying ?? type;
        ParquetColumnKind? kind = t == typeof(bool) ? ParquetColumnKind.Boolean
            : t == typeof(int) ? ParquetColumnKind.Int32
            : t == typeof(long) ? ParquetColumnKind.Int64
            : t == typeof(float) ? ParquetColumnKind.Float
            : t == typeof(double) ? ParquetColumnKind.Double
            : t == typeof(decimal) ? ParquetColumnKind.Decimal
            : t == typeof(string) ? ParquetColumnKind.String
            : t == typeof(byte[]) ? ParquetColumnKind.Binary
            : t == typeof(DateTime) || t == typeof(DateTimeOffset) ? ParquetColumnKind.Timestamp
            : t == typeof(DateOnly) ? ParquetColumnKind.Date
            : null;
        return kind is null ? null : (kind.Value, nullable);
    }

    public static LeafColumn CreateLeaf(ColumnDescriptor descriptor, WriterContext context) => descriptor.Type switch
    {
        PhysicalType.Boolean => new BooleanLeaf(descriptor, context),
        PhysicalType.Int32 => new NumericLeaf<int>(descriptor, context),
        PhysicalType.Int64 => new NumericLeaf<long>(descriptor, context),
        PhysicalType.Float => new NumericLeaf<float>(descriptor, context),
        PhysicalType.Double => new NumericLeaf<double>(descriptor, context),
        PhysicalType.ByteArray when descriptor.Leaf.Kind == ParquetColumnKind.String => new StringLeaf(descriptor, context),
        PhysicalType.ByteArray => new BinaryLeaf(descriptor, context),
        PhysicalType.FixedLenByteArray => new FixedDecimalLeaf(descriptor, context),
        _ => throw new InvalidOperationException($"Unsupported physical type {descriptor.Type}."),
    };

    /// <summary>Creates the writer of <typeparamref name="TElement"/> values into <paramref name="leaf"/> (types checked by the map builder).</summary>
    public static ElementWriter<TElement> Create<TElement>(LeafColumn leaf)
    {
        var field = leaf.Descriptor.Leaf;
        bool nullable = field.IsNullable;
        bool millis = field.TimestampUnit == ParquetTimestampUnit.Milliseconds;
        var t = typeof(TElement);
        object writer =
            t == typeof(bool) ? new StructElement<bool, bool, Identity<bool>>((ValueLeaf<bool>)leaf)
            : t == typeof(bool?) ? new NullableStructElement<bool, bool, Identity<bool>>((ValueLeaf<bool>)leaf, nullable)
            : t == typeof(int) ? new StructElement<int, int, Identity<int>>((ValueLeaf<int>)leaf)
            : t == typeof(int?) ? new NullableStructElement<int, int, Identity<int>>((ValueLeaf<int>)leaf, nullable)
            : t == typeof(long) ? new StructElement<long, long, Identity<long>>((ValueLeaf<long>)leaf)
            : t == typeof(long?) ? new NullableStructElement<long, long, Identity<long>>((ValueLeaf<long>)leaf, nullable)
            : t == typeof(float) ? new StructElement<float, float, Identity<float>>((ValueLeaf<float>)leaf)
            : t == typeof(float?) ? new NullableStructElement<float, float, Identity<float>>((ValueLeaf<float>)leaf, nullable)
            : t == typeof(double) ? new StructElement<double, double, Identity<double>>((ValueLeaf<double>)leaf)
            : t == typeof(double?) ? new NullableStructElement<double, double, Identity<double>>((ValueLeaf<double>)leaf, nullable)
            : t == typeof(DateOnly) ? new StructElement<DateOnly, int, DateOnlyDays>((ValueLeaf<int>)leaf)
            : t == typeof(DateOnly?) ? new NullableStructElement<DateOnly, int, DateOnlyDays>((ValueLeaf<int>)leaf, nullable)
            : t == typeof(DateTime) && millis ? new StructElement<DateTime, long, DateTimeMillis>((ValueLeaf<long>)leaf)
            : t == typeof(DateTime) ? new StructElement<DateTime, long, DateTimeMicros>((ValueLeaf<long>)leaf)
            : t == typeof(DateTime?) && millis ? new NullableStructElement<DateTime, long, DateTimeMillis>((ValueLeaf<long>)leaf, nullable)
            : t == typeof(DateTime?) ? new NullableStructElement<DateTime, long, DateTimeMicros>((ValueLeaf<long>)leaf, nullable)
            : t == typeof(DateTimeOffset) && millis ? new StructElement<DateTimeOffset, long, DateTimeOffsetMillis>((ValueLeaf<long>)leaf)
            : t == typeof(DateTimeOffset) ? new StructElement<DateTimeOffset, long, DateTimeOffsetMicros>((ValueLeaf<long>)leaf)
            : t == typeof(DateTimeOffset?) && millis ? new NullableStructElement<DateTimeOffset, long, DateTimeOffsetMillis>((ValueLeaf<long>)leaf, nullable)
            : t == typeof(DateTimeOffset?) ? new NullableStructElement<DateTimeOffset, long, DateTimeOffsetMicros>((ValueLeaf<long>)leaf, nullable)
            : t == typeof(decimal) ? new LiftedElement<decimal>(new DecimalElement(leaf, nullable))
            : t == typeof(decimal?) ? new DecimalElement(leaf, nullable)
            : t == typeof(string) ? new StringElement((ValueLeaf<string>)leaf, nullable)
            : t == typeof(byte[]) ? new BinaryElement((ValueLeaf<byte[]>)leaf, nullable)
            : throw new ParquetSchemaException($"Values of type {t} cannot be written; use bool, int, long, float, double, decimal, string, byte[], DateTime, DateTimeOffset or DateOnly (or their nullable forms).");
        return (ElementWriter<TElement>)writer;
    }
}
