using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.Kinesis;

/// <summary>Registers (or finds) the enhanced fan-out consumer a <see cref="KinesisShardConsumer"/> reads through.</summary>
internal static class EnhancedFanOut
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Returns the ARN of the named consumer once it is ACTIVE, registering it when it does not exist.</summary>
    /// <remarks>Transient failures are retried through <paramref name="retry"/>; waiting for ACTIVE is bounded by the registration timeout.</remarks>
    public static async Task<string> EnsureConsumerAsync(IKinesisClient client, KinesisConsumerOptions options, ResiliencePipeline retry, ILogger logger, CancellationToken cancellationToken)
    {
        string arn = await retry.ExecuteAsync(
            static (call, token) => new ValueTask<string>(RegisterAsync(call.Client, call.Options, token)),
            (Client: client, Options: options),
            cancellationToken).ConfigureAwait(false);
        KinesisLog.FanOutConsumerReady(logger, options.StreamLabel, options.EnhancedFanOutConsumerName!, arn);
        return arn;
    }

    private static async Task<string> RegisterAsync(IKinesisClient client, KinesisConsumerOptions options, CancellationToken cancellationToken)
    {
        string name = options.EnhancedFanOutConsumerName!;
        string streamArn = options.StreamArn
            ?? (await client.DescribeStreamSummaryAsync(new KinesisDescribeStreamSummaryRequest { StreamName = options.StreamName }, cancellationToken).ConfigureAwait(false)).StreamArn;
        KinesisRegisteredConsumer consumer;
        try
        {
            consumer = await client.RegisterStreamConsumerAsync(new KinesisRegisterStreamConsumerRequest { StreamArn = streamArn, ConsumerName = name }, cancellationToken).ConfigureAwait(false);
        }
        catch (KinesisResourceInUseException)
        {
            consumer = await client.DescribeStreamConsumerAsync(new KinesisDescribeStreamConsumerRequest { StreamArn = streamArn, ConsumerName = name }, cancellationToken).ConfigureAwait(false);
        }

        long started = options.TimeProvider.GetTimestamp();
        while (!consumer.IsActive)
        {
            if (options.TimeProvider.GetElapsedTime(started) > options.EnhancedFanOutRegistrationTimeout)
            {
                throw new TimeoutException(
                    $"Enhanced fan-out consumer '{name}' on {streamArn} is still {consumer.ConsumerStatus} after {options.EnhancedFanOutRegistrationTimeout}; raise KinesisConsumerOptions.EnhancedFanOutRegistrationTimeout or check the consumer in the console.");
            }

            await Task.Delay(PollInterval, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            consumer = await client.DescribeStreamConsumerAsync(new KinesisDescribeStreamConsumerRequest { ConsumerArn = consumer.ConsumerArn }, cancellationToken).ConfigureAwait(false);
        }

        return consumer.ConsumerArn;
    }
}
