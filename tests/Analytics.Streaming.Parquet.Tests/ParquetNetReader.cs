using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Analytics.Streaming.Parquet.Tests;

/// <summary>
/// The third independent reader: Parquet.Net 6 (a managed reader with its own decompression, dictionary, RLE and
/// PLAIN decoding). Each leaf column of each row group is read with its raw column API (the decoded non-null values
/// plus definition and repetition levels) and assembled into rows, in the canonical form of
/// tests/peers/parquet-readers.js, so <see cref="ReadBack.AssertRows"/> checks it like DuckDB and hyparquet.
/// </summary>
/// <remarks>
/// Parquet.Net's untyped deserializer is not used: in 6.1 it drops null elements of a LIST and reads an empty LIST as
/// null, which DuckDB and hyparquet read correctly from the same files.
/// </remarks>
internal static class ParquetNetReader
{
    private static readonly ParquetOptions Options = new() { UseDateOnlyTypeForDates = true };

    /// <summary>Reads a whole file: <c>columns</c>, <c>rows</c> and <c>metadata</c> (rows, row groups, codecs).</summary>
    public static async Task<JsonObject> ReadAsync(string path)
    {
        await using var file = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(file, Options, leaveStreamOpen: false);
        var fields = reader.Schema.Fields;
        var rows = new List<JsonArray>();
        var codecs = new SortedSet<string>(StringComparer.Ordinal);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int count = checked((int)group.RowCount);
            var groupRows = Enumerable.Range(0, count).Select(_ => new JsonArray()).ToList();
            foreach (var field in fields)
            {
                var values = await ReadFieldAsync(group, field);
                Assert.True(values.Count == count, $"Parquet.Net assembled {values.Count} values of {field.Name} in row group {g}, which has {count} rows");
                for (int r = 0; r < count; r++)
                {
                    groupRows[r].Add(values[r]);
                }
            }

            foreach (var column in group.RowGroup.Columns)
            {
                codecs.Add(column.MetaData!.Codec.ToString().ToUpperInvariant());
            }

            rows.AddRange(groupRows);
        }

        return new JsonObject
        {
            ["columns"] = new JsonArray(fields.Select(f => (JsonNode?)JsonValue.Create(f.Name)).ToArray()),
            ["rows"] = new JsonArray(rows.Cast<JsonNode?>().ToArray()),
            ["metadata"] = new JsonObject
            {
                ["num_rows"] = reader.Metadata!.NumRows,
                ["row_groups"] = reader.RowGroupCount,
                ["codecs"] = new JsonArray(codecs.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            },
        };
    }

    private static async Task<List<JsonNode?>> ReadFieldAsync(ParquetRowGroupReader group, Field field)
    {
        switch (field)
        {
            case DataField data:
                {
                    var leaf = await ReadLeafAsync(group, data, (int)group.RowCount);
                    var result = new List<JsonNode?>(leaf.Entries);
                    for (int i = 0; i < leaf.Entries; i++)
                    {
                        result.Add(leaf.IsPresent(i) ? leaf.Next() : null);
                    }

                    return result;
                }

            case ListField list when list.Item is DataField element:
                {
                    var leaf = await ReadLeafAsync(group, element, -1);
                    var result = new List<JsonNode?>();
                    int listDefined = element.MaxDefinitionLevel - 1 - (element.IsNullable ? 1 : 0);
                    JsonArray? current = null;
                    for (int i = 0; i < leaf.Entries; i++)
                    {
                        int definition = leaf.Definition(i);
                        if (leaf.Repetition(i) == 0)
                        {
                            current = definition < listDefined ? null : [];
                            result.Add(current);
                        }

                        if (definition > listDefined)
                        {
                            current!.Add(leaf.IsPresent(i) ? leaf.Next() : null);
                        }
                    }

                    return result;
                }

            case MapField map when map.Key is DataField key && map.Value is DataField value:
                {
                    var keys = await ReadLeafAsync(group, key, -1);
                    var values = await ReadLeafAsync(group, value, -1);
                    Assert.Equal(keys.Entries, values.Entries);
                    var result = new List<JsonNode?>();
                    int mapDefined = key.MaxDefinitionLevel - 1;
                    JsonArray? current = null;
                    for (int i = 0; i < keys.Entries; i++)
                    {
                        int definition = keys.Definition(i);
                        if (keys.Repetition(i) == 0)
                        {
                            current = definition < mapDefined ? null : [];
                            result.Add(current);
                        }

                        if (definition > mapDefined)
                        {
                            var k = keys.Next();
                            var v = values.IsPresent(i) ? values.Next() : null;
                            current!.Add(new JsonArray(k, v));
                        }
                    }

                    return result;
                }

            default:
                throw new InvalidOperationException($"Parquet.Net read field {field.Name} as {field.GetType().Name}, which these tests do not write.");
        }
    }

    private static async Task<Leaf> ReadLeafAsync(ParquetRowGroupReader group, DataField field, int flatCount)
    {
        using var raw = await group.ReadRawColumnDataBaseAsync(field);
        int[] definitions = field.MaxDefinitionLevel > 0 ? raw.DefinitionLevels.ToArray() : [];
        int[] repetitions = field.MaxRepetitionLevel > 0 ? raw.RepetitionLevels.ToArray() : [];
        int entries = field.MaxDefinitionLevel > 0 ? definitions.Length : flatCount;
        int present = field.MaxDefinitionLevel > 0 ? definitions.Count(d => d == field.MaxDefinitionLevel) : entries;
        var values = Canonical(raw, field, present);
        return new Leaf(field.MaxDefinitionLevel, definitions, repetitions, entries, values);
    }

    /// <summary>The first <paramref name="count"/> decoded values (the non-null ones, in order) in canonical form.</summary>
    private static List<JsonNode?> Canonical(RawColumnData raw, DataField field, int count) => raw switch
    {
        RawColumnData<bool> r => Take(r.Values, count, v => JsonValue.Create(v)),
        RawColumnData<int> r => Take(r.Values, count, v => JsonValue.Create(v.ToString(CultureInfo.InvariantCulture))),
        RawColumnData<long> r => Take(r.Values, count, v => JsonValue.Create(v.ToString(CultureInfo.InvariantCulture))),
        RawColumnData<float> r => Take(r.Values, count, v => Number(v)),
        RawColumnData<double> r => Take(r.Values, count, Number),
        RawColumnData<decimal> r => Take(r.Values, count, v => Decimal(v, ((DecimalDataField)field).Scale)),
        RawColumnData<DateTime> r => Take(r.Values, count, v => JsonValue.Create("ts:" + ((v.Ticks - DateTime.UnixEpoch.Ticks) / 10).ToString(CultureInfo.InvariantCulture))),
        RawColumnData<DateOnly> r => Take(r.Values, count, v => JsonValue.Create("date:" + (v.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber).ToString(CultureInfo.InvariantCulture))),
        RawColumnData<ReadOnlyMemory<char>> r => Take(r.Values, count, v => JsonValue.Create(v.ToString())),
        RawColumnData<ReadOnlyMemory<byte>> r => Take(r.Values, count, v => JsonValue.Create("0x" + Convert.ToHexStringLower(v.Span))),
        _ => throw new InvalidOperationException($"Parquet.Net read column {field.Path} as {raw.GetType()}, which these tests do not expect."),
    };

    private static List<JsonNode?> Take<T>(Span<T> values, int count, Func<T, JsonNode?> canonical)
    {
        Assert.True(values.Length >= count, $"Parquet.Net decoded {values.Length} values where the levels say {count}");
        var result = new List<JsonNode?>(count);
        foreach (var value in values[..count])
        {
            result.Add(canonical(value));
        }

        return result;
    }

    // As canonNumber in parquet-readers.js: special values as strings, others as JSON numbers.
    private static JsonNode Number(double value) =>
        double.IsNaN(value) ? JsonValue.Create("NaN")
        : double.IsPositiveInfinity(value) ? JsonValue.Create("Infinity")
        : double.IsNegativeInfinity(value) ? JsonValue.Create("-Infinity")
        : value == 0 && double.IsNegative(value) ? JsonValue.Create("-0")
        : JsonValue.Create(value);

    /// <summary>The exact digits at the column's scale, as DuckDB's <c>{"dec": ...}</c>.</summary>
    private static JsonObject Decimal(decimal value, int scale)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var unscaled = ((BigInteger)(uint)bits[2] << 64) | ((BigInteger)(uint)bits[1] << 32) | (uint)bits[0];
        int valueScale = (bits[3] >> 16) & 0xFF;
        if (valueScale <= scale)
        {
            unscaled *= BigInteger.Pow(10, scale - valueScale);
        }
        else
        {
            unscaled = BigInteger.DivRem(unscaled, BigInteger.Pow(10, valueScale - scale), out var remainder);
            Assert.True(remainder.IsZero, $"Parquet.Net read {value}, more fractional digits than the column's scale {scale}");
        }

        if (bits[3] < 0)
        {
            unscaled = -unscaled;
        }

        return new JsonObject { ["dec"] = ReadBack.DecimalText((Int128)unscaled, scale) };
    }

    /// <summary>One leaf column of a row group: levels, and its present values consumed in order.</summary>
    private sealed class Leaf(int maxDefinition, int[] definitions, int[] repetitions, int entries, List<JsonNode?> values)
    {
        private int _next;

        public int Entries => entries;

        public int Definition(int i) => definitions[i];

        public int Repetition(int i) => repetitions[i];

        public bool IsPresent(int i) => maxDefinition == 0 || definitions[i] == maxDefinition;

        public JsonNode? Next() => values[_next++];
    }
}
