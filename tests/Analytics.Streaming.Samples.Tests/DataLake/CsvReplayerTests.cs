using System.Diagnostics;
using System.Threading.Channels;
using Analytics.Streaming.Samples.DataLake;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Samples.Tests.DataLake;

public sealed class CsvReplayerTests
{
    [Fact]
    public async Task ReplayAsync_AtARate_WaitsOnTheClockAndDeliversEveryGoodRow()
    {
        string path = Path.Combine(Path.GetTempPath(), "replay-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            CsvGenerator.WriteSensorReadings(path, 1_000);
            var time = new FakeTimeProvider();
            var stream = Channel.CreateUnbounded<SensorReading>();
            var rejected = new List<RejectedRow>();

            var replay = CsvReplayer.ReplayAsync(path, RowParsers.TryParseSensor, stream.Writer, rowsPerSecond: 100, rejected, progress: null, time, TestContext.Current.CancellationToken);

            // 100 rows a second: the last row cannot be delivered before the clock reads 10 s. The clock moves in
            // small steps while the replay runs, whether or not its next wait has started yet (a step taken before
            // the wait starts only pushes that wait later), so the replay ends and the clock shows when it did.
            var started = time.GetUtcNow();
            var waited = Stopwatch.StartNew();
            while (!replay.IsCompleted)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), $"the replay did not end; the clock read {time.GetUtcNow() - started}");
                time.Advance(TimeSpan.FromMilliseconds(50));
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }

            Assert.True(time.GetUtcNow() - started >= TimeSpan.FromSeconds(10), $"the replay ended at {time.GetUtcNow() - started} on the clock");
            Assert.Equal(1_000, await replay);
            int good = 0;
            while (stream.Reader.TryRead(out _))
            {
                good++;
            }

            Assert.Equal(1_000, good + rejected.Count);
            Assert.True(stream.Reader.Completion.IsCompleted);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_Options_ReadsEveryFlag()
    {
        var options = DataLakeOptions.Parse(["--work", "w", "--rows", "500", "--rate", "20", "--object-rows", "50", "--bucket", "b", "--s3-endpoint", "http://127.0.0.1:1", "--no-generate", "--no-progress", "--no-compaction"]);

        Assert.Equal((500, 20, 50, "b", "http://127.0.0.1:1", false, false, false), (options.Rows, options.RowsPerSecond, options.ObjectRows, options.Bucket, options.S3ServiceUrl, options.Generate, options.ShowProgress, options.Compact));
        Assert.EndsWith("w", options.WorkFolder, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DataLakeOptions.Parse(["--kinesis"]));
    }
}
