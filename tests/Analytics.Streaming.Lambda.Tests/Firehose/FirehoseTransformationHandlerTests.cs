using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using static Analytics.Streaming.Lambda.Tests.TestData;

namespace Analytics.Streaming.Lambda.Tests.Firehose;

public sealed class FirehoseTransformationHandlerTests
{
    private static readonly JsonEventDecoder<Click> Decoder = new(TestJsonContext.Default.Click);
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The clickstream transform: drop bots, write the page view as a JSON line, partition by page and day.</summary>
    private static FirehoseRecordResult Transform(Click click, FirehoseTransformationEventRecord record)
    {
        if (click.User.StartsWith("bot", StringComparison.Ordinal))
        {
            return FirehoseRecordResult.Dropped("bot traffic");
        }

        if (click.Value < 0)
        {
            throw new InvalidOperationException("negative value");
        }

        var day = DateTimeOffset.FromUnixTimeMilliseconds(click.Time).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return FirehoseRecordResult.Json(new PageView(click.Page, click.User, click.Time), FirehoseTestJsonContext.Default.PageView, new Dictionary<string, string> { ["page"] = click.Page.Trim('/'), ["day"] = day });
    }

    private static FirehoseTransformationEvent Batch(params byte[][] payloads)
        => new()
        {
            InvocationId = "inv-1",
            DeliveryStreamArn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks",
            Region = "us-east-1",
            Records = [.. payloads.Select((p, i) => new FirehoseTransformationEventRecord { RecordId = "r" + i, ApproximateArrivalTimestamp = T0, Data = p })],
        };

    [Fact]
    public async Task HandleAsync_DocumentedFixture_AnswersEveryRecordOnceAndTypeChecks()
    {
        var handler = FirehoseTransformationHandler.Create(Decoder, Transform);

        await using var response = await handler.HandleAsync(FixtureStream("firehose-event.json"), Token);
        string json = await new StreamReader(response).ReadToEndAsync(Token);
        var (exitCode, output) = await CheckTypesAsync([("FirehoseTransformationResult", json, false), ("FirehoseTransformationEvent", Fixture("firehose-event.json"), false)]);

        Assert.True(exitCode == 0, output);
        var result = JsonSerializer.Deserialize(json, LambdaJsonContext.Default.FirehoseTransformationResult)!;
        Assert.Equal(["49546986683135544286507457936321625675700192471156785154", "49546986683135544286507457936321625675700192471156785155"], result.Records.Select(r => r.RecordId));
        Assert.Equal(("Ok", "ProcessingFailed"), (result.Records[0].Result, result.Records[1].Result));
        Assert.Equal("{\"page\":\"/home\",\"user\":\"user-1\",\"time\":1700000000000}\n", Encoding.UTF8.GetString(result.Records[0].Data!.Value.Span));
        Assert.Equal("home", result.Records[0].Metadata!.PartitionKeys["page"]);
        Assert.Equal("2023-11-14", result.Records[0].Metadata!.PartitionKeys["day"]);
        Assert.Null(result.Records[1].Data);
    }

    [Fact]
    public void Handle_DroppedThrowingAndUndecodable_GetTheirResultAndReason()
    {
        var handler = FirehoseTransformationHandler.Create(Decoder, Transform);

        var result = handler.Handle(Batch(Click("/a", 1, user: "bot-7").ToJson(), Click("/a", 1, value: -1).ToJson(), "{"u8.ToArray(), Click("/b", 2).ToJson()));

        Assert.Equal(["Dropped", "ProcessingFailed", "ProcessingFailed", "Ok"], result.Records.Select(r => r.Result));
        Assert.Equal("bot traffic", result.Records[0].Reason);
        Assert.Contains("negative value", result.Records[1].Reason, StringComparison.Ordinal);
        Assert.StartsWith("DecodeFailed", result.Records[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_ResponseOverTheLimit_FailsTheOverflowExplicitlyAndStaysUnderIt()
    {
        var handler = FirehoseTransformationHandler.Create(Decoder, (c, _) => FirehoseRecordResult.Ok(new byte[600]), new FirehoseTransformationHandlerOptions { MaxResponseBytes = 4096 });
        var batch = Batch([.. Enumerable.Range(0, 10).Select(i => Click("/a", i).ToJson())]);

        await using var response = await handler.HandleAsync(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(batch, LambdaJsonContext.Default.FirehoseTransformationEvent)), Token);
        byte[] bytes = ((MemoryStream)response).ToArray();
        var typed = handler.Handle(batch);

        Assert.True(bytes.Length <= 4096, $"{bytes.Length} bytes");
        var result = JsonSerializer.Deserialize(bytes, LambdaJsonContext.Default.FirehoseTransformationResult)!;
        Assert.Equal(batch.Records.Select(r => r.RecordId), result.Records.Select(r => r.RecordId));
        int ok = result.Records.Count(r => r.Result == "Ok");
        Assert.InRange(ok, 3, 4);
        Assert.All(result.Records.Skip(ok), r => Assert.Equal("ProcessingFailed", r.Result));
        Assert.All(typed.Records.Skip(ok), r => Assert.Contains("does not fit", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_LimitAboveSixMegabytes_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => FirehoseTransformationHandler.Create(Decoder, Transform, new FirehoseTransformationHandlerOptions { MaxResponseBytes = 7_000_000 }));

        Assert.Contains("6 MB", error.Message, StringComparison.Ordinal);
    }
}

public sealed record PageView(string Page, string User, long Time);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PageView))]
public sealed partial class FirehoseTestJsonContext : JsonSerializerContext;
