using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Testing;

namespace ReadmeSnippets.Testing;

/// <summary>The Testing README's local event source mapping block.</summary>
public static class TestingReadmeMore
{
    /// <summary>Block 2 of src/Analytics.Streaming.Testing/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task LocalMappingAsync(IKinesisClient kinesisClient, Analytics.Streaming.Lambda.KinesisEventHandler<ClickEvent, string, long> handler, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.Testing/README.md" block="2">
        var mapping = LocalEventSourceMapping.ForStreamHandler(kinesisClient,
            new() { StreamName = "clicks", BatchSize = 500, BisectBatchOnFunctionError = true, PollInterval = TimeSpan.FromMilliseconds(50) },
            handler.HandleAsync);
        await mapping.RunUntilCaughtUpAsync(cancellationToken);
        // </readme>
    }
}
