using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Analytics.Streaming.Parquet.Internal;

namespace Analytics.Streaming.Parquet.Tests;

/// <summary>Writes files and checks what DuckDB, hyparquet and Parquet.Net read back against the values written.</summary>
internal static class ReadBack
{
    public static async Task<JsonElement> WriteAndReadAsync<T>(ReadersFixture fixture, string name, ParquetRecordMap<T> map, IReadOnlyList<T> records, ParquetWriterOptions? options = null)
    {
        string path = fixture.NewPath(name);
        await using (var writer = new ParquetWriter<T>(File.Create(path), map, options))
        {
            foreach (var record in records)
            {
                writer.Write(record);
            }

            await writer.CompleteAsync(TestContext.Current.CancellationToken);
        }

        return await ReadAsync(fixture, path);
    }

    /// <summary>
    /// Reads a file with DuckDB and hyparquet (node process) and Parquet.Net (in this process). The answer holds a
    /// <c>duckdb</c>, <c>hyparquet</c> and <c>parquetnet</c> object each; hyparquet is left out (<c>hyparquetSkipped</c>)
    /// only for ZSTD, which it cannot decode without a decoder node 20 lacks; Parquet.Net only when <paramref name="withParquetNet"/> is false.
    /// </summary>
    public static async Task<JsonElement> ReadAsync(ReadersFixture fixture, string path, bool withParquetNet = true)
    {
        var answer = await fixture.Readers.ReadAsync(path);
        if (answer.TryGetProperty("duckdbError", out var duckError))
        {
            Assert.Fail($"DuckDB could not read {path}: {duckError.GetString()}");
        }

        if (answer.TryGetProperty("hyparquetError", out var hypError))
        {
            Assert.Fail($"hyparquet could not read {path}: {hypError.GetString()}");
        }

        if (answer.TryGetProperty("hyparquetSkipped", out var skipped))
        {
            Assert.True(skipped.GetString()!.Contains("no ZSTD decoder", StringComparison.Ordinal), $"hyparquet skipped {path}: {skipped}");
        }

        if (!withParquetNet)
        {
            return answer;
        }

        var combined = JsonNode.Parse(answer.GetRawText())!.AsObject();
        try
        {
            combined["parquetnet"] = await ParquetNetReader.ReadAsync(path);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"Parquet.Net could not read {path}: {ex}");
        }

        using var document = JsonDocument.Parse(combined.ToJsonString());
        return document.RootElement.Clone();
    }

    /// <summary>The readers that read the file of <paramref name="answer"/>: DuckDB, and hyparquet and Parquet.Net unless left out.</summary>
    public static IReadOnlyList<string> Readers(JsonElement answer)
        => new[] { "duckdb", "hyparquet", "parquetnet" }.Where(reader => answer.TryGetProperty(reader, out _)).ToList();

    /// <summary>Asserts every reader sees exactly <paramref name="rows"/> (CLR values per top-level field, in order).</summary>
    public static void AssertRows(ParquetSchema schema, IReadOnlyList<object?[]> rows, JsonElement answer)
    {
        foreach (string reader in Readers(answer))
        {
            var result = answer.GetProperty(reader);
            var columns = result.GetProperty("columns");
            Assert.Equal(schema.Fields.Count, columns.GetArrayLength());
            for (int c = 0; c < schema.Fields.Count; c++)
            {
                Assert.Equal(schema.Fields[c].Name, columns[c].GetString());
            }

            var actualRows = result.GetProperty("rows");
            Assert.True(rows.Count == actualRows.GetArrayLength(), $"{reader} read {actualRows.GetArrayLength()} rows, {rows.Count} were written");

            // Enumerated, not indexed: indexing an array of arrays walks it from the start each time.
            int r = 0;
            foreach (var actual in actualRows.EnumerateArray())
            {
                for (int c = 0; c < schema.Fields.Count; c++)
                {
                    AssertValue(schema.Fields[c], rows[r][c], actual[c], $"{reader} row {r} column {schema.Fields[c].Name}");
                }

                r++;
            }
        }
    }

    /// <summary>The number of row groups DuckDB found in the file (every codec).</summary>
    public static int RowGroupCount(JsonElement answer) => checked((int)Integer(answer.GetProperty("duckdb").GetProperty("file").GetProperty("num_row_groups")));

    public static void AssertValue(ParquetField field, object? expected, JsonElement actual, string where)
    {
        if (expected is null)
        {
            Assert.True(actual.ValueKind == JsonValueKind.Null, $"{where}: expected null, read {actual}");
            return;
        }

        Assert.True(actual.ValueKind != JsonValueKind.Null, $"{where}: expected {expected}, read null");
        switch (field.Kind)
        {
            case ParquetColumnKind.Boolean:
                Assert.True((bool)expected == actual.GetBoolean(), $"{where}: expected {expected}, read {actual}");
                break;
            case ParquetColumnKind.Int32:
            case ParquetColumnKind.Int64:
                Assert.True(Convert.ToInt64(expected, CultureInfo.InvariantCulture) == Integer(actual), $"{where}: expected {expected}, read {actual}");
                break;
            case ParquetColumnKind.Float:
            case ParquetColumnKind.Double:
                double wanted = expected is float f ? f : (double)expected;
                AssertDouble(wanted, actual, where);
                break;
            case ParquetColumnKind.Decimal:
                AssertDecimal(field, (decimal)expected, actual, where);
                break;
            case ParquetColumnKind.String:
                Assert.True((string)expected == actual.GetString(), $"{where}: expected '{expected}', read {actual}");
                break;
            case ParquetColumnKind.Binary:
                Assert.Equal("0x" + Convert.ToHexStringLower((byte[])expected), actual.GetString());
                break;
            case ParquetColumnKind.Timestamp:
                Assert.True(TimestampText(field, expected) == actual.GetString(), $"{where}: expected {TimestampText(field, expected)} ({expected:O}), read {actual}");
                break;
            case ParquetColumnKind.Date:
                Assert.Equal("date:" + DateOnlyDays.Convert((DateOnly)expected).ToString(CultureInfo.InvariantCulture), actual.GetString());
                break;
            case ParquetColumnKind.List:
                {
                    var items = ((System.Collections.IEnumerable)expected).Cast<object?>().ToList();
                    Assert.True(actual.ValueKind == JsonValueKind.Array, $"{where}: expected a list, read {actual}");
                    Assert.True(items.Count == actual.GetArrayLength(), $"{where}: expected {items.Count} elements, read {actual}");
                    for (int i = 0; i < items.Count; i++)
                    {
                        AssertValue(field.Element!, items[i], actual[i], $"{where}[{i}]");
                    }

                    break;
                }

            case ParquetColumnKind.Map:
                {
                    var pairs = new List<(string Key, object? Value)>();
                    foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)expected)
                    {
                        pairs.Add((Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!, entry.Value));
                    }

                    Assert.True(actual.ValueKind == JsonValueKind.Array, $"{where}: expected a map, read {actual}");
                    var read = actual.EnumerateArray().Select(p => (Key: p[0].GetString()!, Value: p[1])).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
                    pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                    Assert.True(pairs.Count == read.Count, $"{where}: expected {pairs.Count} entries, read {actual}");
                    for (int i = 0; i < pairs.Count; i++)
                    {
                        Assert.Equal(pairs[i].Key, read[i].Key);
                        AssertValue(field.Value!, pairs[i].Value, read[i].Value, $"{where}[{pairs[i].Key}]");
                    }

                    break;
                }

            default:
                throw new InvalidOperationException(field.Kind.ToString());
        }
    }

    public static string TimestampText(ParquetField field, object value)
    {
        long stored = (value, field.TimestampUnit) switch
        {
            (DateTime d, ParquetTimestampUnit.Milliseconds) => DateTimeMillis.Convert(d) * 1000,
            (DateTime d, _) => DateTimeMicros.Convert(d),
            (DateTimeOffset d, ParquetTimestampUnit.Milliseconds) => DateTimeOffsetMillis.Convert(d) * 1000,
            (DateTimeOffset d, _) => DateTimeOffsetMicros.Convert(d),
            _ => throw new InvalidOperationException(value.GetType().Name),
        };
        return "ts:" + stored.ToString(CultureInfo.InvariantCulture);
    }

    private static long Integer(JsonElement actual) => actual.ValueKind == JsonValueKind.String
        ? long.Parse(actual.GetString()!, CultureInfo.InvariantCulture)
        : actual.GetInt64();

    private static void AssertDouble(double wanted, JsonElement actual, string where)
    {
        if (actual.ValueKind == JsonValueKind.String)
        {
            string text = actual.GetString()!;
            bool ok = text switch
            {
                "NaN" => double.IsNaN(wanted),
                "Infinity" => double.IsPositiveInfinity(wanted),
                "-Infinity" => double.IsNegativeInfinity(wanted),
                "-0" => wanted == 0 && double.IsNegative(wanted),
                _ => false,
            };
            Assert.True(ok, $"{where}: expected {wanted:R}, read {text}");
            return;
        }

        double read = actual.GetDouble();
        Assert.True(read.Equals(wanted) && double.IsNegative(read) == double.IsNegative(wanted), $"{where}: expected {wanted:R}, read {read:R}");
    }

    private static void AssertDecimal(ParquetField field, decimal expected, JsonElement actual, string where)
    {
        Assert.True(DecimalConverter.TryUnscale(expected, field.Precision, field.Scale, out var unscaled, out _), $"{where}: test value {expected} does not fit");
        if (actual.TryGetProperty("dec", out var exact))
        {
            Assert.True(DecimalText(unscaled, field.Scale) == exact.GetString(), $"{where}: expected {DecimalText(unscaled, field.Scale)}, read {exact}");
        }
        else
        {
            double read = actual.GetProperty("decn").GetDouble();
            double wanted = (double)expected;
            Assert.True(Math.Abs(read - wanted) <= 1e-12 * Math.Max(1, Math.Abs(wanted)), $"{where}: expected {expected}, read {read:R}");
        }
    }

    public static string DecimalText(Int128 unscaled, int scale)
    {
        bool negative = unscaled < 0;
        string digits = (negative ? -unscaled : unscaled).ToString(CultureInfo.InvariantCulture);
        if (scale > 0)
        {
            digits = digits.PadLeft(scale + 1, '0');
            digits = digits[..^scale] + "." + digits[^scale..];
        }

        return (negative ? "-" : string.Empty) + digits;
    }
}
