namespace Analytics.Streaming.Benchmarks.Queries.Nexmark;

/// <summary>What a Nexmark event is.</summary>
public enum NexmarkKind : byte
{
    /// <summary>A new person (bidder or seller).</summary>
    Person,

    /// <summary>A new auction.</summary>
    Auction,

    /// <summary>A bid on an auction.</summary>
    Bid,
}

/// <summary>A Nexmark bid: auction, bidder, price in cents (the reference generator's unit).</summary>
/// <param name="Auction">The auction id.</param>
/// <param name="Bidder">The bidder's person id.</param>
/// <param name="Price">The price in cents.</param>
public readonly record struct Bid(long Auction, long Bidder, long Price);

/// <summary>A Nexmark person.</summary>
/// <param name="Id">The person id.</param>
/// <param name="Name">The name.</param>
/// <param name="EmailAddress">The e-mail address.</param>
/// <param name="CreditCard">The credit card number.</param>
/// <param name="City">The city.</param>
/// <param name="State">The state.</param>
public sealed record Person(long Id, string Name, string EmailAddress, string CreditCard, string City, string State);

/// <summary>A Nexmark auction.</summary>
/// <param name="Id">The auction id.</param>
/// <param name="ItemName">The item.</param>
/// <param name="InitialBid">The initial bid in cents.</param>
/// <param name="Reserve">The reserve price in cents.</param>
/// <param name="ExpiresMs">When it ends (Unix milliseconds relative to the pass).</param>
/// <param name="Seller">The seller's person id.</param>
/// <param name="Category">The category.</param>
public sealed record Auction(long Id, string ItemName, long InitialBid, long Reserve, long ExpiresMs, long Seller, long Category);

/// <summary>
/// One event of the Nexmark stream: a bid inline (46 of every 50 events), or a reference to a person or an auction.
/// <see cref="TimeMs"/> is relative to the start of its pass (see <see cref="PassClock"/>).
/// </summary>
/// <param name="Kind">What the event is.</param>
/// <param name="TimeMs">The event time.</param>
/// <param name="Bid">The bid, when <see cref="Kind"/> is <see cref="NexmarkKind.Bid"/>.</param>
/// <param name="Person">The person, when <see cref="Kind"/> is <see cref="NexmarkKind.Person"/>.</param>
/// <param name="Auction">The auction, when <see cref="Kind"/> is <see cref="NexmarkKind.Auction"/>.</param>
public readonly record struct NexmarkEvent(NexmarkKind Kind, long TimeMs, Bid Bid, Person? Person, Auction? Auction);

/// <summary>
/// Generates Nexmark events following the facts of the reference generator (Apache Beam's Nexmark
/// <c>GeneratorConfig</c>/<c>NexmarkConfiguration</c> defaults and its person/auction/bid generators, which the
/// nexmark/nexmark Flink suite reuses; written from those facts, no code taken):
/// <list type="bullet">
/// <item>event number n is a person, an auction or a bid by n mod 50: proportions 1 : 3 : 46;</item>
/// <item>ids start at 1000 (persons and auctions), categories at 10 with 5 categories;</item>
/// <item>a bid goes to the current hot auction (the last auction id rounded down to a multiple of 100) unless one
/// draw in <c>hotAuctionRatio</c> = 2 picks another auction, uniformly among the last 100 in flight plus a lead of 10;</item>
/// <item>a bidder is the current hot bidder (the last person id rounded down to 100, plus 1) unless one draw in
/// <c>hotBiddersRatio</c> = 4 picks another, uniformly among the last 1,000 active persons plus a lead of 10;</item>
/// <item>a seller is the hot seller (last person id rounded down to 100) unless one draw in <c>hotSellersRatio</c> = 4 picks another active person;</item>
/// <item>prices are round(10^(6 u) x 100) cents for u uniform in [0, 1); reserve = initial bid + another price;</item>
/// <item>events are evenly spaced in event time at the configured rate, in order.</item>
/// </list>
/// </summary>
public static class NexmarkGenerator
{
    /// <summary>Events per pass (one benchmark operation).</summary>
    public const int EventsPerPass = 1_000_000;

    /// <summary>Event time per pass: 10 s at 100,000 events/s.</summary>
    public const long PassMs = 10_000;

    private const int PersonProportion = 1;
    private const int AuctionProportion = 3;
    private const int BidProportion = 46;
    private const int TotalProportion = PersonProportion + AuctionProportion + BidProportion;
    private const long FirstPersonId = 1000;
    private const long FirstAuctionId = 1000;
    private const long FirstCategoryId = 10;
    private const int Categories = 5;
    private const int HotAuctionRatio = 2;
    private const int HotBiddersRatio = 4;
    private const int HotSellersRatio = 4;
    private const long HotRound = 100;
    private const long InFlightAuctions = 100;
    private const long ActivePeople = 1000;
    private const long IdLead = 10;

    /// <summary>Generates one pass of events.</summary>
    /// <param name="events">The number of events.</param>
    /// <param name="passMs">The event time they cover (rate = events / pass).</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The pass.</returns>
    public static PassData<NexmarkEvent> Generate(int events = EventsPerPass, long passMs = PassMs, int seed = 7)
    {
        var random = new Random(seed);
        var list = new NexmarkEvent[events];
        for (int n = 0; n < events; n++)
        {
            long time = n * passMs / events;
            long epoch = n / TotalProportion;
            int offset = n % TotalProportion;
            if (offset < PersonProportion)
            {
                long id = FirstPersonId + LastPersonBase0(n);
                list[n] = new NexmarkEvent(NexmarkKind.Person, time, default, NewPerson(id, random), null);
            }
            else if (offset < PersonProportion + AuctionProportion)
            {
                long id = FirstAuctionId + (epoch * AuctionProportion) + offset - PersonProportion;
                long seller = random.Next(HotSellersRatio) > 0
                    ? LastPersonBase0(n) / HotRound * HotRound
                    : NextPersonBase0(n, random);
                long initial = NextPrice(random);
                var auction = new Auction(
                    id,
                    "item-" + id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    initial,
                    initial + NextPrice(random),
                    time + random.Next(1_000, 60_000),
                    FirstPersonId + seller,
                    FirstCategoryId + random.Next(Categories));
                list[n] = new NexmarkEvent(NexmarkKind.Auction, time, default, null, auction);
            }
            else
            {
                long auction = random.Next(HotAuctionRatio) > 0
                    ? LastAuctionBase0(n) / HotRound * HotRound
                    : NextAuctionBase0(n, random);
                long bidder = random.Next(HotBiddersRatio) > 0
                    ? (LastPersonBase0(n) / HotRound * HotRound) + 1
                    : NextPersonBase0(n, random);
                list[n] = new NexmarkEvent(NexmarkKind.Bid, time, new Bid(FirstAuctionId + auction, FirstPersonId + bidder, NextPrice(random)), null, null);
            }
        }

        return new PassData<NexmarkEvent>(list, passMs);
    }

    /// <summary>The base-0 id of the last person created at or before event <paramref name="n"/>.</summary>
    private static long LastPersonBase0(long n)
    {
        long epoch = n / TotalProportion;
        long offset = Math.Min(n % TotalProportion, PersonProportion - 1);
        return (epoch * PersonProportion) + offset;
    }

    /// <summary>The base-0 id of the last auction created at or before event <paramref name="n"/> (0 before the first).</summary>
    private static long LastAuctionBase0(long n)
    {
        long epoch = n / TotalProportion;
        long offset = n % TotalProportion;
        if (offset < PersonProportion)
        {
            epoch--;
            offset = AuctionProportion - 1;
        }
        else if (offset < PersonProportion + AuctionProportion)
        {
            offset -= PersonProportion;
        }
        else
        {
            offset = AuctionProportion - 1;
        }

        return Math.Max(0, (epoch * AuctionProportion) + offset);
    }

    private static long NextPersonBase0(long n, Random random)
    {
        long people = LastPersonBase0(n) + 1;
        long active = Math.Min(people, ActivePeople);
        return people - active + random.NextInt64(active + IdLead);
    }

    private static long NextAuctionBase0(long n, Random random)
    {
        long last = LastAuctionBase0(n);
        long min = Math.Max(last - InFlightAuctions, 0);
        return min + random.NextInt64(last - min + 1 + IdLead);
    }

    private static long NextPrice(Random random) => (long)Math.Round(Math.Pow(10.0, random.NextDouble() * 6.0) * 100.0);

    private static Person NewPerson(long id, Random random)
    {
        string name = "person-" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Person(id, name, name + "@example.com", random.NextInt64(1_000_000_000_000_000, 9_999_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture), "city-" + random.Next(50), "ST");
    }
}
