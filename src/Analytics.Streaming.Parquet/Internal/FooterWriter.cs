namespace Analytics.Streaming.Parquet.Internal;

/// <summary>Writes the Thrift <c>FileMetaData</c> of a file.</summary>
internal static class FooterWriter
{
    public static void Write(ByteBuffer output, ParquetSchema schema, IReadOnlyList<RowGroupMetadata> rowGroups, long rowCount, int leafCount, ParquetWriterOptions options)
    {
        var w = new CompactWriter(output);
        w.StructBegin();
        w.FieldI32(1, 1);

        // 2: schema, depth first.
        int elements = 1;
        foreach (var field in schema.Fields)
        {
            elements += field.Kind switch
            {
                ParquetColumnKind.List => 3,
                ParquetColumnKind.Map => 4,
                _ => 1,
            };
        }

        w.FieldListBegin(2, CompactWriter.TypeStruct, elements);
        w.StructBegin();
        w.FieldString(4, "schema");
        w.FieldI32(5, schema.Fields.Count);
        w.StructEnd();
        foreach (var field in schema.Fields)
        {
            switch (field.Kind)
            {
                case ParquetColumnKind.List:
                    Group(w, field.Name, field.IsNullable ? 1 : 0, 1, convertedType: 3, logicalType: 3);
                    Group(w, "list", 2, 1, convertedType: null, logicalType: null);
                    Leaf(w, field.Element!);
                    break;
                case ParquetColumnKind.Map:
                    Group(w, field.Name, field.IsNullable ? 1 : 0, 1, convertedType: 1, logicalType: 2);
                    Group(w, "key_value", 2, 2, convertedType: null, logicalType: null);
                    Leaf(w, field.Key!);
                    Leaf(w, field.Value!);
                    break;
                default:
                    Leaf(w, field);
                    break;
            }
        }

        w.FieldI64(3, rowCount);

        w.FieldListBegin(4, CompactWriter.TypeStruct, rowGroups.Count);
        foreach (var group in rowGroups)
        {
            RowGroup(w, group, options.WriteStatistics);
        }

        if (options.Metadata.Count > 0)
        {
            w.FieldListBegin(5, CompactWriter.TypeStruct, options.Metadata.Count);
            foreach (var (key, value) in options.Metadata)
            {
                w.StructBegin();
                w.FieldString(1, key);
                w.FieldString(2, value);
                w.StructEnd();
            }
        }

        w.FieldString(6, options.CreatedBy);

        if (options.WriteStatistics)
        {
            // 7: column_orders, one TYPE_ORDER per leaf, so min_value/max_value are well defined.
            w.FieldListBegin(7, CompactWriter.TypeStruct, leafCount);
            for (int i = 0; i < leafCount; i++)
            {
                w.StructBegin();
                w.FieldEmptyStruct(1);
                w.StructEnd();
            }
        }

        w.StructEnd();
    }

    private static void Group(CompactWriter w, string name, int repetition, int children, int? convertedType, short? logicalType)
    {
        w.StructBegin();
        w.FieldI32(3, repetition);
        w.FieldString(4, name);
        w.FieldI32(5, children);
        if (convertedType is int converted)
        {
            w.FieldI32(6, converted);
        }

        if (logicalType is short logical)
        {
            w.FieldStructBegin(10);
            w.FieldEmptyStruct(logical);
            w.StructEnd();
        }

        w.StructEnd();
    }

    private static void Leaf(CompactWriter w, ParquetField field)
    {
        var descriptor = new ColumnDescriptor([field.Name], field, 0, 0);
        w.StructBegin();
        w.FieldI32(1, (int)descriptor.Type);
        if (descriptor.Type == PhysicalType.FixedLenByteArray)
        {
            w.FieldI32(2, descriptor.TypeLength);
        }

        w.FieldI32(3, field.IsNullable ? 1 : 0);
        w.FieldString(4, field.Name);
        switch (field.Kind)
        {
            case ParquetColumnKind.String:
                w.FieldI32(6, 0); // UTF8
                w.FieldStructBegin(10);
                w.FieldEmptyStruct(1);
                w.StructEnd();
                break;
            case ParquetColumnKind.Decimal:
                w.FieldI32(6, 5); // DECIMAL
                w.FieldI32(7, field.Scale);
                w.FieldI32(8, field.Precision);
                w.FieldStructBegin(10);
                w.FieldStructBegin(5);
                w.FieldI32(1, field.Scale);
                w.FieldI32(2, field.Precision);
                w.StructEnd();
                w.StructEnd();
                break;
            case ParquetColumnKind.Date:
                w.FieldI32(6, 6); // DATE
                w.FieldStructBegin(10);
                w.FieldEmptyStruct(6);
                w.StructEnd();
                break;
            case ParquetColumnKind.Timestamp:
                bool millis = field.TimestampUnit == ParquetTimestampUnit.Milliseconds;
                w.FieldI32(6, millis ? 9 : 10); // TIMESTAMP_MILLIS / TIMESTAMP_MICROS
                w.FieldStructBegin(10);
                w.FieldStructBegin(8);
                w.FieldBool(1, true);
                w.FieldStructBegin(2);
                w.FieldEmptyStruct(millis ? (short)1 : (short)2);
                w.StructEnd();
                w.StructEnd();
                w.StructEnd();
                break;
            default:
                break;
        }

        w.StructEnd();
    }

    private static void RowGroup(CompactWriter w, RowGroupMetadata group, bool statistics)
    {
        w.StructBegin();
        w.FieldListBegin(1, CompactWriter.TypeStruct, group.Columns.Length);
        foreach (var chunk in group.Columns)
        {
            long chunkOffset = chunk.DictionaryPageOffset ?? chunk.DataPageOffset;
            w.StructBegin();
            w.FieldI64(2, chunkOffset);
            w.FieldStructBegin(3);
            w.FieldI32(1, (int)chunk.Column.Type);
            w.FieldListBegin(2, CompactWriter.TypeI32, chunk.Encodings.Length);
            foreach (int encoding in chunk.Encodings)
            {
                w.ListI32(encoding);
            }

            w.FieldListBegin(3, CompactWriter.TypeBinary, chunk.Column.Path.Length);
            foreach (string part in chunk.Column.Path)
            {
                w.ListString(part);
            }

            w.FieldI32(4, chunk.Codec);
            w.FieldI64(5, chunk.NumValues);
            w.FieldI64(6, chunk.TotalUncompressedSize);
            w.FieldI64(7, chunk.TotalCompressedSize);
            w.FieldI64(9, chunk.DataPageOffset);
            if (chunk.DictionaryPageOffset is long dictionaryOffset)
            {
                w.FieldI64(11, dictionaryOffset);
            }

            if (statistics && chunk.NullCount is long nulls)
            {
                w.FieldStructBegin(12);
                w.FieldI64(3, nulls);
                if (chunk.Max is not null && chunk.Min is not null)
                {
                    w.FieldBinary(5, chunk.Max);
                    w.FieldBinary(6, chunk.Min);
                }

                w.StructEnd();
            }

            w.StructEnd(); // ColumnMetaData
            w.StructEnd(); // ColumnChunk
        }

        w.FieldI64(2, group.TotalByteSize);
        w.FieldI64(3, group.NumRows);
        w.FieldI64(5, group.FileOffset);
        w.FieldI64(6, group.TotalCompressedSize);
        w.FieldI16(7, group.Ordinal);
        w.StructEnd();
    }
}
