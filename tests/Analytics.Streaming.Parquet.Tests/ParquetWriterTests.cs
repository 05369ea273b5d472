using System.IO.Compression;
using System.Text;

namespace Analytics.Streaming.Parquet.Tests;

public sealed class ParquetWriterTests
{
    private readonly ReadersFixture _fixture;

    public ParquetWriterTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record Item(long Id, string? Name, decimal Price, IReadOnlyList<string>? Tags = null);

    private static ParquetRecordMap<Item> ItemMap() => ParquetRecordMap.For<Item>()
        .Int64("id", i => i.Id)
        .String("name", i => i.Name, nullable: false)
        .Decimal("price", 9, 2, i => i.Price)
        .List("tags", i => i.Tags)
        .Build();

    [Fact]
    public async Task Write_ValueDoesNotFit_RejectsWholeRecordAndKeepsWriting()
    {
        var map = ItemMap();
        string path = _fixture.NewPath("rejects");
        var errors = new List<ParquetValueException>();
        var good = new List<Item>();
        var records = new[]
        {
            new Item(1, "a", 1.5m, ["x"]),
            new Item(2, null, 2m),                       // null in a REQUIRED string
            new Item(3, "c", 10_000_000m),               // too many digits for DECIMAL(9,2)
            new Item(4, "d", 1.234m),                    // more fractional digits than the scale
            new Item(5, "e\uD800", 1m),                  // lone surrogate
            new Item(6, "f", 1.50m, ["ok", null!]),      // nullable element: fine
            new Item(7, "g", 3.10m),
        };
        await using (var writer = new ParquetWriter<Item>(File.Create(path), map))
        {
            foreach (var record in records)
            {
                try
                {
                    writer.Write(record);
                    good.Add(record);
                }
                catch (ParquetValueException ex)
                {
                    errors.Add(ex);
                }
            }

            Assert.Equal(3, writer.RowCount);
            writer.Complete();
        }

        Assert.Equal(["name", "price", "price", "name"], errors.Select(e => e.Column));
        Assert.All(errors, e => Assert.Equal(1, e.RowNumber));
        Assert.Contains("REQUIRED", errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("DECIMAL(9,2)", errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("fractional digits", errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("surrogate", errors[3].Reason, StringComparison.Ordinal);
        var answer = await ReadBack.ReadAsync(_fixture, path);
        ReadBack.AssertRows(map.Schema, good.Select(i => new object?[] { i.Id, i.Name, i.Price, i.Tags }).ToList(), answer);
    }

    [Fact]
    public void Write_AccessorThrows_RejectsRecordWithInnerException()
    {
        var map = ParquetRecordMap.For<Item>()
            .Int64("id", i => i.Id)
            .Int32("name_length", i => i.Name!.Length)
            .Build();
        using var writer = new ParquetWriter<Item>(new MemoryStream(), map);

        var error = Assert.Throws<ParquetValueException>(() => writer.Write(new Item(1, null, 0m)));

        Assert.Equal("name_length", error.Column);
        Assert.IsType<NullReferenceException>(error.InnerException);
        writer.Write(new Item(2, "ok", 0m));
        Assert.Equal(1, writer.RowCount);
    }

    [Fact]
    public void Dispose_WithoutComplete_LeavesNoFooter()
    {
        var stream = new MemoryStream();
        using (var writer = new ParquetWriter<Item>(stream, ItemMap(), new ParquetWriterOptions { MaxRowsPerRowGroup = 10 }, leaveOpen: true))
        {
            for (int i = 0; i < 25; i++)
            {
                writer.Write(new Item(i, "n", 1m));
            }

            Assert.Equal(2, writer.RowGroupCount);
        }

        byte[] bytes = stream.ToArray();
        Assert.True(bytes.Length > 4);
        Assert.Equal("PAR1", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.NotEqual("PAR1", Encoding.ASCII.GetString(bytes, bytes.Length - 4, 4));
    }

    [Fact]
    public void Write_StreamFails_FaultsWriterAndCompleteThrows()
    {
        var stream = new FailingStream(failAfterBytes: 100);
        using var writer = new ParquetWriter<Item>(stream, ItemMap(), new ParquetWriterOptions { MaxRowsPerRowGroup = 50 });

        Assert.Throws<IOException>(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                writer.Write(new Item(i, "name " + i, i));
            }
        });

        var error = Assert.Throws<InvalidOperationException>(writer.Complete);
        Assert.Contains("discard", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => writer.Write(new Item(1, "x", 1m)));
    }

    [Fact]
    public void Complete_Twice_Throws()
    {
        using var writer = new ParquetWriter<Item>(new MemoryStream(), ItemMap());
        writer.Complete();

        Assert.True(writer.IsCompleted);
        Assert.Throws<InvalidOperationException>(writer.Complete);
        Assert.Throws<InvalidOperationException>(() => writer.Write(new Item(1, "x", 1m)));
    }

    [Fact]
    public async Task Complete_NoRows_WritesValidEmptyFile()
    {
        var map = ItemMap();
        string path = _fixture.NewPath("empty");
        await using (var writer = new ParquetWriter<Item>(File.Create(path), map))
        {
            await writer.CompleteAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, writer.RowGroupCount);
        }

        var answer = await ReadBack.ReadAsync(_fixture, path);

        ReadBack.AssertRows(map.Schema, [], answer);
        Assert.Equal("0", answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("num_rows").ToString());
    }

    [Fact]
    public async Task WriteAsync_NonSeekableStream_ProducesReadableFileAndCountsBytes()
    {
        var map = ItemMap();
        string path = _fixture.NewPath("nonseekable");
        var records = Enumerable.Range(0, 1000).Select(i => new Item(i, "n" + (i % 10), i / 4m, i % 2 == 0 ? ["a", "b"] : null)).ToArray();
        long written;
        await using (var file = File.Create(path))
        {
            var stream = new ForwardOnlyStream(file);
            await using var writer = new ParquetWriter<Item>(stream, map, new ParquetWriterOptions { MaxRowsPerRowGroup = 300 });
            await writer.WriteAsync(records, TestContext.Current.CancellationToken);
            Assert.Equal(3, writer.RowGroupCount);
            Assert.True(writer.BufferedRows == 100);
            await writer.CompleteAsync(TestContext.Current.CancellationToken);
            written = writer.BytesWritten;
        }

        Assert.Equal(new FileInfo(path).Length, written);
        var answer = await ReadBack.ReadAsync(_fixture, path);
        ReadBack.AssertRows(map.Schema, records.Select(i => new object?[] { i.Id, i.Name, i.Price, i.Tags }).ToList(), answer);
        Assert.Equal(4, answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups").GetArrayLength());
    }

    [Fact]
    public async Task FlushRowGroup_ClosesTheGroupWhereTheCallerChooses_AndAnEmptyFlushWritesNothing()
    {
        var map = ItemMap();
        string path = _fixture.NewPath("explicit-groups");
        var records = Enumerable.Range(0, 7).Select(i => new Item(i, "n" + i, i * 1.25m, i % 3 == 0 ? ["x"] : null)).ToArray();
        await using (var writer = new ParquetWriter<Item>(File.Create(path), map))
        {
            writer.Write(records[0]);
            writer.Write(records[1]);
            writer.FlushRowGroup();
            long afterFirst = writer.BytesWritten;
            writer.FlushRowGroup(); // nothing buffered: no group, no bytes
            await writer.FlushRowGroupAsync(TestContext.Current.CancellationToken);
            Assert.Equal((1, 0, afterFirst), (writer.RowGroupCount, writer.BufferedRows, writer.BytesWritten));

            await writer.WriteAsync(records.AsMemory(2, 4), TestContext.Current.CancellationToken);
            await writer.FlushRowGroupAsync(TestContext.Current.CancellationToken);
            writer.Write(records[6]);
            await writer.CompleteAsync(TestContext.Current.CancellationToken);
            Assert.Equal(3, writer.RowGroupCount);
        }

        var answer = await ReadBack.ReadAsync(_fixture, path);
        ReadBack.AssertRows(map.Schema, records.Select(i => new object?[] { i.Id, i.Name, i.Price, i.Tags }).ToList(), answer);
        var groups = answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups");
        Assert.Equal([2, 4, 1], groups.EnumerateArray().Select(g => int.Parse(g.GetProperty("num_rows").ToString(), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(3, ReadBack.RowGroupCount(answer));
    }

    [Fact]
    public async Task Write_RowGroupSizeReached_FlushesRowGroupsBySizeWithBoundedBuffer()
    {
        var map = ParquetRecordMap.For<Item>()
            .Int64("id", i => i.Id)
            .String("name", i => i.Name)
            .Build();
        var options = new ParquetWriterOptions { RowGroupSize = 64 * 1024, PageSize = 8 * 1024, Compression = ParquetCompression.Uncompressed };
        var records = Enumerable.Range(0, 3000).Select(i => new Item(i, new string((char)('a' + (i % 26)), 100) + i, 0m)).ToList();
        string path = _fixture.NewPath("by-size");
        long maxBuffered = 0;
        int groups;
        await using (var writer = new ParquetWriter<Item>(File.Create(path), map, options))
        {
            foreach (var record in records)
            {
                writer.Write(record);
                maxBuffered = Math.Max(maxBuffered, writer.BufferedBytes);
            }

            writer.Complete();
            groups = writer.RowGroupCount;
        }

        // ~330 KB of strings: several row groups, none buffering much beyond the limit plus a page per column.
        Assert.InRange(groups, 4, 10);
        Assert.True(maxBuffered < (64 * 1024) + (2 * 16 * 1024), $"buffered up to {maxBuffered} bytes");
        var answer = await ReadBack.ReadAsync(_fixture, path);
        ReadBack.AssertRows(map.Schema, records.Select(i => new object?[] { i.Id, i.Name }).ToList(), answer);
        Assert.Equal(groups, answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups").GetArrayLength());
    }

    [Theory]
    [InlineData(ParquetCompression.Gzip)]
    [InlineData(ParquetCompression.Brotli)]
    [InlineData(ParquetCompression.Snappy)]
    [InlineData(ParquetCompression.Zstd)]
    public async Task Complete_RowGroupOfNullsOnly_ReadsBackWithEveryCodec(ParquetCompression codec)
    {
        var map = ParquetRecordMap.For<Item>()
            .Int64("id", i => i.Id)
            .String("name", i => i.Name)
            .Build();
        var records = Enumerable.Range(0, 30).Select(i => new Item(i, i < 10 ? "n" + i : null, 0m)).ToList();

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "nulls-" + codec, map, records, new ParquetWriterOptions { Compression = codec, MaxRowsPerRowGroup = 10 });

        ReadBack.AssertRows(map.Schema, records.Select(i => new object?[] { i.Id, i.Name }).ToList(), answer);
    }

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Fastest)]
    [InlineData(CompressionLevel.Optimal)]
    [InlineData(CompressionLevel.SmallestSize)]
    public async Task Complete_ZstdAtEveryLevel_ReadersSeeZstdAndEveryValue(CompressionLevel level)
    {
        var map = ItemMap();
        var records = Enumerable.Range(0, 2000)
            .Select(i => new Item(i, "name-" + (i % 37), (i % 500) / 4m, i % 3 == 0 ? null : ["tag" + (i % 5), "t"]))
            .ToList();

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "zstd-" + level, map, records, new ParquetWriterOptions { Compression = ParquetCompression.Zstd, CompressionLevel = level, MaxValuesPerPage = 500 });

        ReadBack.AssertRows(map.Schema, records.Select(i => new object?[] { i.Id, i.Name, i.Price, i.Tags }).ToList(), answer);
        Assert.All(answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray(), c => Assert.Equal("ZSTD", c.GetProperty("compression").GetString()));
        Assert.Equal(["ZSTD"], answer.GetProperty("parquetnet").GetProperty("metadata").GetProperty("codecs").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public void Complete_Zstd_SmallerThanSnappyOnRepetitiveData()
    {
        var map = ItemMap();
        var records = Enumerable.Range(0, 20_000)
            .Select(i => new Item(i * 7, "customer " + (i % 3000) + " of region " + (i % 11), i % 1000 / 4m))
            .ToList();
        long Size(ParquetCompression codec)
        {
            using var stream = new MemoryStream();
            using (var writer = new ParquetWriter<Item>(stream, map, new ParquetWriterOptions { Compression = codec }, leaveOpen: true))
            {
                writer.Write(records.ToArray());
                writer.Complete();
            }

            return stream.Length;
        }

        long snappy = Size(ParquetCompression.Snappy);
        long zstd = Size(ParquetCompression.Zstd);

        Assert.True(zstd < snappy, $"ZSTD {zstd} B, SNAPPY {snappy} B");
    }

    [Theory]
    [InlineData(nameof(ParquetWriterOptions.RowGroupSize), 1000)]
    [InlineData(nameof(ParquetWriterOptions.PageSize), 10)]
    [InlineData(nameof(ParquetWriterOptions.MaxValuesPerPage), 0)]
    [InlineData(nameof(ParquetWriterOptions.MaxRowsPerRowGroup), 0)]
    [InlineData(nameof(ParquetWriterOptions.DictionaryPageSizeLimit), 5)]
    [InlineData(nameof(ParquetWriterOptions.MaxStatisticsSize), -1)]
    public void Constructor_OptionOutOfRange_ThrowsNamingTheOption(string option, int value)
    {
        var options = new ParquetWriterOptions();
        typeof(ParquetWriterOptions).GetProperty(option)!.SetValue(options, value);

        var error = Assert.Throws<ArgumentException>(() => new ParquetWriter<Item>(new MemoryStream(), ItemMap(), options));

        Assert.Equal(option, error.ParamName);
        Assert.Contains("must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnknownCodec_Throws()
    {
        var options = new ParquetWriterOptions { Compression = (ParquetCompression)3 }; // LZO: not offered

        var error = Assert.Throws<ArgumentException>(() => new ParquetWriter<Item>(new MemoryStream(), ItemMap(), options));

        Assert.Contains("Snappy", error.Message, StringComparison.Ordinal);
    }

    private sealed class FailingStream(int failAfterBytes) : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > failAfterBytes)
            {
                throw new IOException("disk full");
            }

            base.Write(buffer, offset, count);
        }
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    }
}
