using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Checkpoints;

/// <summary>
/// The binary form of a checkpoint is what a restarted or upgraded worker reads back: it must not change by accident.
/// The expected bytes were written by the library of 2 Dec 2026 (before <c>ToBytes</c> stopped going through a growing
/// buffer); a change of format must change <see cref="PipelineCheckpoint"/>'s version and this test together.
/// </summary>
public sealed class CheckpointFormatTests
{
    /// <summary>A checkpoint of two window stages (so it holds downstream state), two partitions and a record filtered out.</summary>
    private const string Expected =
        "415343500100030007666F726D617401000000000000000000F8B4C848DE0880FC3642F67F9F087454756D626C696E672873697A" +
        "652030303A30313A3030292C206F66667365742030303A30303A30302C206C6174656E6573732030303A30303A30302C20657665" +
        "6E742074696D652C206B65792053797374656D2E496E7433322C20616363756D756C61746F722053797374656D2E496E74363402" +
        "02620C023300000000000000000233000000000000000000ED3145F67F9F08000000000000000015736861726449642D30303030" +
        "30303030303030310C39343935393033333832373134393032353636303835353936393235333833363135373130393539323135" +
        "37353938393133363538383839320300000000000000393439353930333338323731343930323536363038353539363932353338" +
        "333631353731303935393231353735393839313336353838383932030000000000000000AF1D51F67F9F08000000000000000027" +
        "020101020000000000000001010000000000000002010200000000000000010100000000000000D601415343500100010007666F" +
        "726D617401000000000000000000F8B4C848DE0880FC3642F67F9F087454756D626C696E672873697A652030303A30323A303029" +
        "2C206F66667365742030303A30303A30302C206C6174656E6573732030303A30303A30302C206576656E742074696D652C206B65" +
        "792053797374656D2E496E7433322C20616363756D756C61746F722053797374656D2E496E743634010F77696E646F772D726573" +
        "756C74730C0232000000000000000002320000000000000000FF0B3C3FF67F9F08000000000000000001007C1BBEC7DB79C6DC";

    [Fact]
    public void ToBytes_OfAFixedState_IsTheFormatEarlierVersionsWrote()
    {
        byte[] bytes = Checkpoint().ToBytes();

        Assert.Equal(Expected, Convert.ToHexString(bytes));
    }

    [Fact]
    public void Parse_OfTheEarlierFormat_RestoresAPipelineThatGoesOnLikeTheOneThatWroteIt()
    {
        var restored = PipelineCheckpoint.Parse(Convert.FromHexString(Expected));
        Assert.Equal(Expected, Convert.ToHexString(restored.ToBytes()));

        var writer = Driver();
        Feed(writer);
        int before = writer.Results.Count;
        var resumed = new PipelineTestDriver<TestEvent, int, long>(Pipeline(), checkpoint: restored);
        foreach (var driver in (PipelineTestDriver<TestEvent, int, long>[])[writer, resumed])
        {
            driver.Push(Shard(3, new TestEvent(2, 170, 1), new TestEvent(1, 200, 1), new TestEvent(2, 260, 1)));
            driver.Push("b", new TestEvent(3, 400, 1));
        }

        // Key 2 counts two in minute 2, one event from before the checkpoint and one after; that count is the largest
        // of even keys in the two-minute window [2:00, 4:00), which closes after the checkpoint.
        Assert.Equal(Describe(writer.Results.Skip(before)), Describe(resumed.Results));
        Assert.Contains(resumed.Results, r => r.Window.Start == TestEvent.At(120) && r.Key == 0 && r.Value == 2);
    }

    /// <summary>The results, sorted: their order among keys within one step is not part of the contract.</summary>
    private static string Describe(IEnumerable<WindowResult<int, long>> results)
        => string.Join("; ", results.Select(r => $"{r.Key} {r.Window} {r.Value} {r.Reason}").Order(StringComparer.Ordinal));

    private static PipelineCheckpoint Checkpoint()
    {
        var driver = Driver();
        Feed(driver);
        return driver.CreateCheckpoint();
    }

    private static PipelineTestDriver<TestEvent, int, long> Driver() => new(Pipeline());

    private static void Feed(PipelineTestDriver<TestEvent, int, long> driver)
    {
        driver.Push(Shard(0, new TestEvent(1, 10, 5), new TestEvent(2, 70, 7)));
        driver.Push("b", new TestEvent(3, 20, 7), new TestEvent(1, 130, 1), new TestEvent(-1, 140, 2));
        driver.Push(Shard(2, new TestEvent(2, 150, 4)));
    }

    /// <summary>A batch of a Kinesis shard whose sequence numbers go on from <paramref name="first"/>.</summary>
    private static RecordBatch<TestEvent> Shard(int first, params TestEvent[] events)
        => new("shardId-000000000001", events.Select((e, i) => new StreamRecord<TestEvent>(e, SequenceNumber.Parse($"4959033827149025660855969253836157109592157598913658889{first + i}"), 3)).ToArray());

    /// <summary>Counts per key and minute, then the largest count per parity of the key and two minutes.</summary>
    private static StreamPipeline<TestEvent, int, long> Pipeline()
        => StreamPipeline.Create<TestEvent>(new StreamPipelineOptions { Name = "format", WindowState = WindowStateMode.Always })
            .WithEventTime(e => e.Time, TimeSpan.FromSeconds(5))
            .Where(e => e.Key >= 0)
            .KeyBy(e => e.Key)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .KeyBy(r => r.Key % 2)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(2)))
            .Aggregate(a => a.Max(r => r.Value))
            .To(Sinks.Discard<WindowResult<int, long>>())
            .Build();
}
