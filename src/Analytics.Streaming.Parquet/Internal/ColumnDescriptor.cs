namespace Analytics.Streaming.Parquet.Internal;

/// <summary>Parquet physical types (the thrift <c>Type</c> enum).</summary>
internal enum PhysicalType
{
    Boolean = 0,
    Int32 = 1,
    Int64 = 2,
    Float = 4,
    Double = 5,
    ByteArray = 6,
    FixedLenByteArray = 7,
}

/// <summary>Parquet encodings (the thrift <c>Encoding</c> enum) this writer uses.</summary>
internal static class Encodings
{
    public const int Plain = 0;
    public const int Rle = 3;
    public const int DeltaBinaryPacked = 5;
    public const int RleDictionary = 8;
}

/// <summary>A leaf column: its path, physical type, levels and the primitive field that gives its logical type.</summary>
internal sealed class ColumnDescriptor
{
    public ColumnDescriptor(string[] path, ParquetField leaf, int maxDefinitionLevel, int maxRepetitionLevel)
    {
        Path = path;
        DottedPath = string.Join('.', path);
        Leaf = leaf;
        MaxDefinitionLevel = maxDefinitionLevel;
        MaxRepetitionLevel = maxRepetitionLevel;
        (Type, TypeLength) = PhysicalOf(leaf);
    }

    public string[] Path { get; }

    public string DottedPath { get; }

    public ParquetField Leaf { get; }

    public PhysicalType Type { get; }

    public int TypeLength { get; }

    public int MaxDefinitionLevel { get; }

    public int MaxRepetitionLevel { get; }

    /// <summary>The bytes of a FIXED_LEN_BYTE_ARRAY decimal of the given precision (the least that holds 10^p − 1 signed).</summary>
    public static int DecimalByteLength(int precision)
    {
        var limit = DecimalConverter.Pow10(precision);
        for (int bytes = 1; bytes < 16; bytes++)
        {
            // Largest positive value in `bytes` two's-complement bytes is 2^(8*bytes-1) - 1.
            if (limit - 1 <= (Int128.One << (8 * bytes - 1)) - 1)
            {
                return bytes;
            }
        }

        return 16;
    }

    private static (PhysicalType, int) PhysicalOf(ParquetField leaf) => leaf.Kind switch
    {
        ParquetColumnKind.Boolean => (PhysicalType.Boolean, 0),
        ParquetColumnKind.Int32 or ParquetColumnKind.Date => (PhysicalType.Int32, 0),
        ParquetColumnKind.Int64 or ParquetColumnKind.Timestamp => (PhysicalType.Int64, 0),
        ParquetColumnKind.Float => (PhysicalType.Float, 0),
        ParquetColumnKind.Double => (PhysicalType.Double, 0),
        ParquetColumnKind.Decimal when leaf.Precision <= 9 => (PhysicalType.Int32, 0),
        ParquetColumnKind.Decimal when leaf.Precision <= 18 => (PhysicalType.Int64, 0),
        ParquetColumnKind.Decimal => (PhysicalType.FixedLenByteArray, DecimalByteLength(leaf.Precision)),
        ParquetColumnKind.String or ParquetColumnKind.Binary => (PhysicalType.ByteArray, 0),
        _ => throw new ParquetSchemaException($"Field '{leaf.Name}' of kind {leaf.Kind} is not a primitive column."),
    };
}

/// <summary>What a finished column chunk contributes to the footer.</summary>
internal sealed class ChunkMetadata
{
    public required ColumnDescriptor Column { get; init; }

    public required int Codec { get; init; }

    public required long NumValues { get; init; }

    public required long TotalUncompressedSize { get; init; }

    public required long TotalCompressedSize { get; init; }

    public required long DataPageOffset { get; init; }

    public required long? DictionaryPageOffset { get; init; }

    public required int[] Encodings { get; init; }

    public required long? NullCount { get; init; }

    public required byte[]? Min { get; init; }

    public required byte[]? Max { get; init; }
}

/// <summary>What a written row group contributes to the footer.</summary>
internal sealed class RowGroupMetadata
{
    public required ChunkMetadata[] Columns { get; init; }

    public required long NumRows { get; init; }

    public required long TotalByteSize { get; init; }

    public required long FileOffset { get; init; }

    public required long TotalCompressedSize { get; init; }

    public required short Ordinal { get; init; }
}
