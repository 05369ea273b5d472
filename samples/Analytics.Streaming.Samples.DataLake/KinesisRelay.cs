using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.Samples.DataLake;

/// <summary>The JSON of the records put to Kinesis (source-generated).</summary>
[JsonSerializable(typeof(SensorReading))]
[JsonSerializable(typeof(Purchase))]
public sealed partial class DataLakeJson : JsonSerializerContext;

/// <summary>
/// The Kinesis leg, when configured: the replayed rows are put to a stream with <see cref="KinesisProducer"/>
/// (PutRecords, partition key = machine or customer id), and read back with <see cref="KinesisShardConsumer"/> into the
/// consumer's in-process stream, until every record put has come back.
/// </summary>
/// <remarks>
/// One PutRecords call at a time, so records keep their order on a one-shard stream, which the per-machine baselines and
/// the event-time windows downstream expect (the read-back is one partition: records of several shards would arrive
/// interleaved, and some could be late for the windows).
/// </remarks>
public static class KinesisRelay
{
    /// <summary>Puts every record of <paramref name="input"/> to <paramref name="streamName"/> and delivers what the stream returns to <paramref name="output"/>.</summary>
    /// <returns>The records that went through Kinesis.</returns>
    public static async Task<long> RelayAsync<T>(IKinesisClient client, string streamName, ChannelReader<T> input, ChannelWriter<T> output, JsonTypeInfo<T> typeInfo, Func<T, string> partitionKey, CancellationToken cancellationToken)
    {
        try
        {
            var published = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var read = ReadBackAsync(client, streamName, output, typeInfo, published.Task, stop);
            long count = 0;
            await using (var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = streamName, MaxConcurrentRequests = 1 }))
            {
                await foreach (var item in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    await producer.AddAsync(JsonSerializer.SerializeToUtf8Bytes(item, typeInfo), partitionKey(item), cancellationToken: cancellationToken).ConfigureAwait(false);
                    count++;
                }

                await producer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            published.SetResult(count);
            return await read.ConfigureAwait(false);
        }
        finally
        {
            output.TryComplete();
        }
    }

    private static async Task<long> ReadBackAsync<T>(IKinesisClient client, string streamName, ChannelWriter<T> output, JsonTypeInfo<T> typeInfo, Task<long> published, CancellationTokenSource stop)
    {
        var source = new KinesisShardConsumer(client, new KinesisConsumerOptions { StreamName = streamName, IdleTimeBetweenReads = TimeSpan.FromMilliseconds(200) })
            .Decode(new JsonEventDecoder<T>(typeInfo));
        long received = 0;
        try
        {
            await foreach (var batch in source.ReadBatchesAsync(new SourceContext(), stop.Token).ConfigureAwait(false))
            {
                for (int i = 0; i < batch.Records.Length; i++)
                {
                    await output.WriteAsync(batch.Records.Span[i].Value, stop.Token).ConfigureAwait(false);
                }

                received += batch.Records.Length + batch.DeadLetters.Count;
                if (published.IsCompleted && received >= await published.ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return received;
    }
}
