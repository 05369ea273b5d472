namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// Feeds the built-in traffic into the same stream as the beacons: the web shop (with a scraper-bot burst every 30 s,
/// from 25 s on) and the restaurant menu. Rates from <c>Generators</c>; 0 turns a generator off.
/// </summary>
public sealed class GeneratorFeeder(GeneratorOptions options, IClickWriter writer, IngestStatistics statistics, TimeProvider time) : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var feeds = new List<Task>();
        if (options.ShopPerSecond > 0)
        {
            feeds.Add(FeedAsync(new ClickstreamGenerator(options.ShopPerSecond, time), stoppingToken));
        }

        if (options.MenuPerSecond > 0)
        {
            feeds.Add(FeedAsync(new MenuClickstreamGenerator(options.MenuPerSecond, time), stoppingToken));
        }

        return Task.WhenAll(feeds);
    }

    private async Task FeedAsync(IEventSource<ClickEvent> generator, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in generator.ReadBatchesAsync(new SourceContext(), cancellationToken).ConfigureAwait(false))
            {
                var events = new ClickEvent[batch.Records.Length];
                var records = batch.Records.Span;
                for (int i = 0; i < events.Length; i++)
                {
                    events[i] = records[i].Value;
                }

                await writer.WriteAsync(events, cancellationToken).ConfigureAwait(false);
                statistics.Generated(events.Length);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // The service is stopping: the embedded stream was completed before the generators noticed.
        }
    }
}
