namespace Analytics.Streaming.Kinesis.Tests.Consumer;

public sealed class KinesisConsumerOptionsTests
{
    [Fact]
    public void Validate_Defaults_Pass()
    {
        var options = new KinesisConsumerOptions { StreamName = "orders" };

        options.Validate();

        Assert.Equal(5, options.MaxGetRecordsCallsPerSecond);
        Assert.Equal(2 * 1024 * 1024, options.MaxBytesPerSecond);
        Assert.Equal(KinesisStartingPositionType.TrimHorizon, options.InitialPosition.Type);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Retry.BaseDelay);
        Assert.Equal(RetryOptions.DefaultMaxAttempts, options.Retry.MaxAttempts);
    }

    [Fact]
    public void Validate_RetryOutOfRange_NamesTheConsumerSetting()
    {
        var options = new KinesisConsumerOptions { StreamName = "s", Retry = { MaxAttempts = 0 } };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith("KinesisConsumerOptions.Retry.MaxAttempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoStream_SaysToSetNameOrArn()
    {
        var error = Assert.Throws<ArgumentException>(() => new KinesisConsumerOptions().Validate());

        Assert.Contains("StreamName or StreamArn", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InitialPositionAtSequenceNumber_PointsToShardStartingPositions()
    {
        var options = new KinesisConsumerOptions { StreamName = "s", InitialPosition = KinesisStartingPosition.AtSequenceNumber("1") };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("ShardStartingPositions", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Validate_CallsPerSecondOutsideShardLimit_Throws(int calls)
    {
        var options = new KinesisConsumerOptions { StreamName = "s", MaxGetRecordsCallsPerSecond = calls };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("MaxGetRecordsCallsPerSecond", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BytesPerSecondAboveShardLimit_Throws()
    {
        var options = new KinesisConsumerOptions { StreamName = "s", MaxBytesPerSecond = 3 * 1024 * 1024 };

        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void Validate_ShardStartingPositionWithBadSequence_Throws()
    {
        var options = new KinesisConsumerOptions { StreamName = "s" };
        options.ShardStartingPositions["shardId-000000000000"] = new KinesisStartingPosition(KinesisStartingPositionType.AfterSequenceNumber, "12x");

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("shardId-000000000000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsBeforeReading()
    {
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = new Uri("http://127.0.0.1:9"),
            Credentials = new Amazon.Runtime.BasicAWSCredentials("AKIDTEST", "secret"),
        });

        Assert.Throws<ArgumentException>(() => new KinesisShardConsumer(client, new KinesisConsumerOptions()));
    }
}
