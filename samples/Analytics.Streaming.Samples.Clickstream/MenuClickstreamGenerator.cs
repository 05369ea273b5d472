using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Samples.Clickstream;

/// <summary>
/// A restaurant's online menu: guests arrive from maps, review sites and social media (mostly on phones), open the
/// menu, look at dishes (popularity follows a Zipf law, with a lunch special that gets a boost), and some order.
/// Each menu-item view carries the dish in <see cref="ClickEvent.MenuItem"/>.
/// </summary>
public sealed class MenuClickstreamGenerator(int eventsPerSecond, TimeProvider time, long? totalEvents = null, int seed = 11) : IEventSource<ClickEvent>
{
    private static readonly (string Category, string Item)[] Dishes =
    [
        ("pizza", "Margherita"), ("pasta", "Carbonara"), ("pizza", "Diavola"), ("salads", "Caesar salad"), ("pasta", "Lasagne"),
        ("desserts", "Tiramisu"), ("pizza", "Quattro formaggi"), ("starters", "Bruschetta"), ("pasta", "Pesto genovese"),
        ("desserts", "Panna cotta"), ("starters", "Arancini"), ("salads", "Caprese"), ("drinks", "Lemonade"), ("drinks", "Espresso"),
    ];

    private static readonly (string Name, int Weight)[] Referrers =
        [("maps.google.com", 35), ("(direct)", 20), ("instagram.com", 15), ("yelp.com", 12), ("tripadvisor.com", 8), ("facebook.com", 6), ("ubereats.com", 4)];

    private static readonly (string Name, int Weight)[] UserAgents =
        [("Safari", 45), ("Chrome", 38), ("Samsung Internet", 9), ("Firefox", 4), ("Edge", 4)];

    private readonly Random _random = new(seed);
    private readonly double[] _dishWeights = Dishes.Select((_, i) => 1.0 / (i + 1)).ToArray();
    private readonly double[] _referrerWeights = Referrers.Select(r => (double)r.Weight).ToArray();
    private readonly double[] _agentWeights = UserAgents.Select(a => (double)a.Weight).ToArray();

    /// <inheritdoc />
    /// <remarks>A live generator: it cannot go back to earlier records.</remarks>
    public bool CanResume => false;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<ClickEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(100);
        double perTick = eventsPerSecond / 10.0;
        double carry = 0;
        long sequence = 0;
        long produced = 0;
        while (!cancellationToken.IsCancellationRequested && produced < (totalEvents ?? long.MaxValue))
        {
            carry += perTick;
            int count = (int)Math.Min(carry, (totalEvents ?? long.MaxValue) - produced);
            carry -= count;
            if (count > 0)
            {
                var now = time.GetUtcNow();
                var records = new StreamRecord<ClickEvent>[count];
                for (int i = 0; i < count; i++)
                {
                    records[i] = new StreamRecord<ClickEvent>(Next(now), SequenceNumber.FromInt64(++sequence));
                }

                produced += count;
                yield return new RecordBatch<ClickEvent>("menu-0", records, isEndOfPartition: produced >= (totalEvents ?? long.MaxValue));
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

    private ClickEvent Next(DateTimeOffset now)
    {
        var timestamp = now - TimeSpan.FromMilliseconds(_random.Next(0, 1500));
        string guest = $"guest-{(int)(Math.Pow(_random.NextDouble(), 2) * 2000):D4}";
        string referrer = Referrers[Pick(_referrerWeights)].Name;
        string agent = UserAgents[Pick(_agentWeights)].Name;
        double latency = Math.Round(Math.Exp(4.2 + (_random.NextDouble() * 1.4)), 1);
        double roll = _random.NextDouble();
        if (roll < 0.2)
        {
            return new ClickEvent(timestamp, guest, "/menu", referrer, agent, latency);
        }

        if (roll < 0.3)
        {
            return new ClickEvent(timestamp, guest, roll < 0.27 ? "/order" : "/order/confirmed", referrer, agent, latency);
        }

        // The lunch special (Carbonara) gets a boost around noon UTC.
        int dish = now.UtcDateTime.Hour is 11 or 12 && _random.NextDouble() < 0.2 ? 1 : Pick(_dishWeights);
        var (category, item) = Dishes[dish];
        return new ClickEvent(timestamp, guest, $"/menu/{category}/{Slug(item)}", referrer, agent, latency, item);
    }

    private static string Slug(string item) => item.ToLowerInvariant().Replace(' ', '-');

    private int Pick(double[] weights)
    {
        double x = _random.NextDouble() * weights.Sum();
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
