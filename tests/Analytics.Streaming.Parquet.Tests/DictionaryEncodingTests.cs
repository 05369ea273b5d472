using System.Globalization;
using Analytics.Streaming.Parquet.Internal;

namespace Analytics.Streaming.Parquet.Tests;

public sealed class DictionaryEncodingTests
{
    private readonly ReadersFixture _fixture;

    public DictionaryEncodingTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record Event(long UserId, long Sequence);

    private static readonly ParquetRecordMap<Event> Map = ParquetRecordMap.For<Event>()
        .Int64("user_id", e => e.UserId)
        .Int64("sequence", e => e.Sequence)
        .Build();

    [Fact]
    public void GetOrAdd_ManyValuesWithRepeats_IndexesInFirstSeenOrderAsADictionary()
    {
        using var table = new NumericDictionary<long>();
        var expected = new Dictionary<long, int>();
        var random = new Random(7);
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < 200_000; i++)
            {
                long value = random.Next(50_000) * 1_000_003L * (i % 2 == 0 ? 1 : -1);
                bool isNew = !expected.TryGetValue(value, out int index);
                if (isNew)
                {
                    index = expected.Count;
                    expected[value] = index;
                }

                Assert.Equal(index, table.GetOrAdd(value, out bool added));
                Assert.Equal(isNew, added);
            }

            Assert.Equal(expected.Keys, table.Values.ToArray());
            table.Clear();
            expected.Clear();
            Assert.Equal(0, table.Count);
        }
    }

    [Fact]
    public void GetOrAdd_SignedZerosAndNaNPayloads_AreDistinctEntries()
    {
        using var table = new NumericDictionary<double>();
        double otherNaN = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(double.NaN) ^ 1);

        int[] indices = [table.GetOrAdd(0.0, out _), table.GetOrAdd(-0.0, out _), table.GetOrAdd(double.NaN, out _), table.GetOrAdd(otherNaN, out _), table.GetOrAdd(-0.0, out bool again)];

        Assert.Equal([0, 1, 2, 3, 1], indices);
        Assert.False(again);
        Assert.Equal(4, table.Count);
    }

    [Fact]
    public async Task Complete_IdsRepeatingAcrossPages_KeepDictionaryThoughFirstPageIsMostlyDistinct()
    {
        // 300,000 draws from 100,000 ids: the first page of 20,000 is ~90.6% distinct, but the 100,000 ids (800 KB)
        // fit the 1 MiB dictionary limit, so RLE_DICTIONARY (17-bit indices) beats PLAIN (64 bits) for the chunk.
        var random = new Random(3);
        var rows = Enumerable.Range(0, 300_000).Select(i => new Event(random.Next(100_000), i)).ToList();

        var sizes = await UncompressedSizesAsync("repeating-ids", rows);

        long plain = rows.Count * 8L;
        Assert.True(sizes["user_id"] < plain * 0.7, $"user_id chunk {sizes["user_id"]} B, PLAIN would be {plain} B");
        Assert.True(sizes["sequence"] < plain * 1.1, $"sequence chunk {sizes["sequence"]} B, PLAIN would be {plain} B");
    }

    private async Task<Dictionary<string, long>> UncompressedSizesAsync(string name, List<Event> rows)
    {
        var options = new ParquetWriterOptions { Compression = ParquetCompression.Uncompressed };
        var answer = await ReadBack.WriteAndReadAsync(_fixture, name, Map, rows, options);
        ReadBack.AssertRows(Map.Schema, rows.Select(r => new object?[] { r.UserId, r.Sequence }).ToList(), answer);
        return answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray().ToDictionary(
            c => c.GetProperty("path_in_schema").GetString()!,
            c => long.Parse(c.GetProperty("total_uncompressed_size").ToString(), CultureInfo.InvariantCulture));
    }
}
