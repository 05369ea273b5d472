using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Samples.Clickstream;

/// <summary>
/// An endless, realistic clickstream: page popularity follows a Zipf law, visitors come back, referrers and user
/// agents have skewed shares, and events reach us out of order by up to two seconds across two simulated shards.
/// Every 30 seconds, starting 25 seconds in, a scraper bot hammers <c>/search</c> for four seconds at twice the
/// normal rate: the abnormal traffic the sample's anomaly detector should flag.
/// </summary>
public sealed class ClickstreamGenerator(int eventsPerSecond, TimeProvider time, long? totalEvents = null, int seed = 7) : IEventSource<ClickEvent>
{
    private static readonly string[] Pages =
    [
        "/", "/products", "/products/espresso-machine", "/products/grinder", "/cart", "/checkout", "/search", "/blog/latte-art",
        "/products/milk-frother", "/account", "/blog/beans-guide", "/support", "/products/kettle", "/about", "/careers",
    ];

    private static readonly (string Name, int Weight)[] Referrers =
        [("google.com", 45), ("(direct)", 25), ("facebook.com", 10), ("newsletter", 8), ("bing.com", 6), ("reddit.com", 4), ("partner-blog.example", 2)];

    private static readonly (string Name, int Weight)[] UserAgents =
        [("Chrome", 55), ("Safari", 25), ("Firefox", 8), ("Edge", 7), ("Samsung Internet", 4), ("curl", 1)];

    private readonly Random _random = new(seed);
    private readonly double[] _pageWeights = Pages.Select((_, i) => 1.0 / (i + 1)).ToArray();

    /// <inheritdoc />
    /// <remarks>A live generator: it cannot go back to earlier records.</remarks>
    public bool CanResume => false;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<ClickEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(100);
        int perBatch = Math.Max(1, eventsPerSecond / 10 / 2);
        long[] sequences = [0, 0];
        var started = time.GetUtcNow();
        long produced = 0;
        while (!cancellationToken.IsCancellationRequested && produced < (totalEvents ?? long.MaxValue))
        {
            for (int shard = 0; shard < 2; shard++)
            {
                var now = time.GetUtcNow();
                bool botBurst = (now - started).TotalSeconds % 30 is >= 25 and < 29;
                var records = new StreamRecord<ClickEvent>[botBurst ? perBatch * 3 : perBatch];
                for (int i = 0; i < records.Length; i++)
                {
                    var click = i < perBatch ? Next(now) : Bot(now);
                    records[i] = new StreamRecord<ClickEvent>(click, SequenceNumber.FromInt64(++sequences[shard]));
                }

                produced += records.Length;
                yield return new RecordBatch<ClickEvent>($"shardId-00000000000{shard}", records, isEndOfPartition: produced >= (totalEvents ?? long.MaxValue));
            }

            try
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private ClickEvent Bot(DateTimeOffset now)
        => new(now - TimeSpan.FromMilliseconds(_random.Next(0, 500)), $"bot-{_random.Next(3)}", "/search", "(direct)", "curl", Math.Round(Math.Exp(6 + _random.NextDouble()), 1));

    private ClickEvent Next(DateTimeOffset now)
    {
        var timestamp = now - TimeSpan.FromMilliseconds(_random.Next(0, 2000));
        string user = $"user-{(int)(Math.Pow(_random.NextDouble(), 2) * 5000):D4}";
        string page = Pages[Pick(_pageWeights)];
        string referrer = Referrers[Pick(Referrers.Select(r => (double)r.Weight).ToArray())].Name;
        string agent = UserAgents[Pick(UserAgents.Select(a => (double)a.Weight).ToArray())].Name;
        double latency = Math.Exp(4.5 + (_random.NextDouble() * 1.5));
        return new ClickEvent(timestamp, user, page, referrer, agent, Math.Round(latency, 1));
    }

    private int Pick(double[] weights)
    {
        double total = weights.Sum();
        double x = _random.NextDouble() * total;
        for (int i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
