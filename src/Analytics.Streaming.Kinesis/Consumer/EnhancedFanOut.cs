namespace Analytics.Streaming.Kinesis;

/// <summary>Registers (or finds) the enhanced fan-out consumer a <see cref="KinesisShardConsumer"/> reads through.</summary>
internal static class EnhancedFanOut
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Returns the ARN of the named consumer once it is ACTIVE, registering it when it does not exist.</summary>
    public static async Task<string> EnsureConsumerAsync(IKinesisClient client, KinesisConsumerOptions options, CancellationToken cancellationToken)
    {
        for (int failures = 0; ; failures++)
        {
            try
            {
                return await RegisterAsync(client, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (ShardReaderBase.IsTransient(e, cancellationToken))
            {
                await Task.Delay(ShardReaderBase.BackOffDelay(options, failures), options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
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
