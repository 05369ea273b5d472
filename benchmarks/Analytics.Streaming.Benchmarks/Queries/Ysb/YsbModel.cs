namespace Analytics.Streaming.Benchmarks.Queries.Ysb;

/// <summary>The <c>ad_type</c> of a Yahoo Streaming Benchmark event.</summary>
public enum AdType : byte
{
    /// <summary>banner</summary>
    Banner,

    /// <summary>modal</summary>
    Modal,

    /// <summary>sponsored-search</summary>
    SponsoredSearch,

    /// <summary>mail</summary>
    Mail,

    /// <summary>mobile</summary>
    Mobile,
}

/// <summary>The <c>event_type</c> of a Yahoo Streaming Benchmark event.</summary>
public enum AdEventType : byte
{
    /// <summary>view: the only type the query keeps.</summary>
    View,

    /// <summary>click</summary>
    Click,

    /// <summary>purchase</summary>
    Purchase,
}

/// <summary>
/// An ad event of the Yahoo Streaming Benchmark (YSB): <c>user_id</c>, <c>page_id</c>, <c>ad_id</c>, <c>ad_type</c>,
/// <c>event_type</c>, <c>event_time</c>, <c>ip_address</c>. The benchmark's JSON carries the ids as UUID strings and the
/// types as strings; here they are already decoded (UUIDs, enums, an IPv4 address as a number), as after a JSON
/// decoder; <see cref="EventTimeMs"/> is relative to the start of its pass (see <see cref="PassClock"/>).
/// </summary>
/// <param name="UserId">user_id.</param>
/// <param name="PageId">page_id.</param>
/// <param name="AdId">ad_id.</param>
/// <param name="AdType">ad_type.</param>
/// <param name="EventType">event_type.</param>
/// <param name="EventTimeMs">event_time, milliseconds from the start of the pass.</param>
/// <param name="IpAddress">ip_address.</param>
public readonly record struct AdEvent(Guid UserId, Guid PageId, Guid AdId, AdType AdType, AdEventType EventType, long EventTimeMs, uint IpAddress);

/// <summary>The query's projection of a view: the ad and the time.</summary>
/// <param name="AdId">The ad.</param>
/// <param name="EventTimeMs">The event time (as in <see cref="AdEvent.EventTimeMs"/>).</param>
public readonly record struct AdView(Guid AdId, long EventTimeMs);

/// <summary>A view joined with its ad's campaign.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="EventTimeMs">The event time.</param>
public readonly record struct CampaignView(Guid CampaignId, long EventTimeMs);

/// <summary>
/// Generated Yahoo Streaming Benchmark input: the campaigns with their ads (the table the query joins with, which YSB
/// keeps in Redis) and one pass of events. Facts followed from the YSB description (Chintapalli et al., "Benchmarking
/// Streaming Computation Engines", 2016, and its public data generator): ads and event types drawn uniformly (so a
/// third of the events are views), a fixed pool of 100 users and 100 pages, ten ads per campaign. Here 1,000
/// campaigns x 10 ads; events in event-time order with up to 50 ms of disorder.
/// </summary>
public sealed class YsbData
{
    /// <summary>Events per pass (one benchmark operation).</summary>
    public const int EventsPerPass = 1_000_000;

    /// <summary>Event time per pass: 10 s at 100,000 events/s, so each pass closes one 10-second window.</summary>
    public const long PassMs = 10_000;

    /// <summary>The query's tumbling window.</summary>
    public const long WindowMs = 10_000;

    /// <summary>The allowed disorder (watermark = largest event time minus this).</summary>
    public const long OutOfOrdernessMs = 100;

    private YsbData(Guid[] campaigns, Guid[] ads, Guid[] campaignOfAd, AdEvent[] events)
    {
        Campaigns = campaigns;
        Ads = ads;
        CampaignOfAd = campaignOfAd;
        Pass = new PassData<AdEvent>(events, PassMs);
        Table = new LookupTable<Guid, Guid>(ads.Select((ad, i) => KeyValuePair.Create(ad, campaignOfAd[i])));
    }

    /// <summary>Gets the campaign ids.</summary>
    public Guid[] Campaigns { get; }

    /// <summary>Gets the ad ids.</summary>
    public Guid[] Ads { get; }

    /// <summary>Gets the campaign of each ad of <see cref="Ads"/>, by index.</summary>
    public Guid[] CampaignOfAd { get; }

    /// <summary>Gets the ad to campaign table as the library's lookup table.</summary>
    public LookupTable<Guid, Guid> Table { get; }

    /// <summary>Gets one pass of events.</summary>
    public PassData<AdEvent> Pass { get; }

    /// <summary>Builds the ad to campaign table as a dictionary (the hand-written loops' and Rx.NET's join).</summary>
    /// <returns>A new dictionary.</returns>
    public Dictionary<Guid, Guid> CreateDictionary()
    {
        var map = new Dictionary<Guid, Guid>(Ads.Length);
        for (int i = 0; i < Ads.Length; i++)
        {
            map[Ads[i]] = CampaignOfAd[i];
        }

        return map;
    }

    /// <summary>Generates the data.</summary>
    /// <param name="campaigns">Number of campaigns.</param>
    /// <param name="adsPerCampaign">Ads per campaign.</param>
    /// <param name="events">Events per pass.</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The data.</returns>
    public static YsbData Generate(int campaigns = 1_000, int adsPerCampaign = 10, int events = EventsPerPass, int seed = 42)
    {
        var random = new Random(seed);
        var campaignIds = new Guid[campaigns];
        var ads = new Guid[campaigns * adsPerCampaign];
        var campaignOfAd = new Guid[ads.Length];
        for (int c = 0; c < campaigns; c++)
        {
            campaignIds[c] = NewGuid(random);
            for (int a = 0; a < adsPerCampaign; a++)
            {
                ads[(c * adsPerCampaign) + a] = NewGuid(random);
                campaignOfAd[(c * adsPerCampaign) + a] = campaignIds[c];
            }
        }

        var users = Enumerable.Range(0, 100).Select(_ => NewGuid(random)).ToArray();
        var pages = Enumerable.Range(0, 100).Select(_ => NewGuid(random)).ToArray();
        var list = new AdEvent[events];
        for (int i = 0; i < events; i++)
        {
            long time = Math.Min(PassMs - 1, (i * PassMs / events) + random.Next(0, 50));
            list[i] = new AdEvent(
                users[random.Next(users.Length)],
                pages[random.Next(pages.Length)],
                ads[random.Next(ads.Length)],
                (AdType)random.Next(5),
                (AdEventType)random.Next(3),
                time,
                0x01020304u);
        }

        return new YsbData(campaignIds, ads, campaignOfAd, list);
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
