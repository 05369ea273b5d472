using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>One rate to measure.</summary>
/// <param name="Rate">Beacons per second.</param>
/// <param name="BatchSize">Beacons per request: 1 sends pixel GETs (<c>/collect.gif</c>), more sends JSON batches (<c>POST /collect</c>).</param>
/// <param name="Duration">How long to send (measured part).</param>
/// <param name="Warmup">How long to send first without measuring (JIT, connections).</param>
public sealed record LatencyScenario(int Rate, int BatchSize, TimeSpan Duration, TimeSpan Warmup);

/// <summary>The figures of one scenario.</summary>
/// <param name="Scenario">What was asked.</param>
/// <param name="Beacons">Beacons measured (sent after the warm-up and seen on the dashboard).</param>
/// <param name="AchievedRate">Beacons accepted per second over the measured part.</param>
/// <param name="P50Ms">Median beacon-to-dashboard latency (ms).</param>
/// <param name="P99Ms">99th percentile (ms).</param>
/// <param name="MaxMs">Largest (ms).</param>
/// <param name="Refused">Requests that did not get 200/202.</param>
/// <param name="Unseen">Beacons the dashboard had not shown when the harness gave up waiting.</param>
public sealed record LatencyResult(LatencyScenario Scenario, long Beacons, double AchievedRate, double P50Ms, double P99Ms, double MaxMs, long Refused, long Unseen);

/// <summary>
/// Measures beacon-to-dashboard latency on the real host (Kestrel on 127.0.0.1, embedded stream, generators off,
/// the lake on in a temporary folder): beacons go in at a steady rate over HTTP while a signed-in client reads the
/// dashboard's server-sent events; a beacon counts as shown at the first snapshot whose total event count proves it
/// was counted.
/// </summary>
/// <remarks>
/// The proof: when a request's response arrives, <c>S</c> is the number of beacons in requests started so far.
/// Every beacon ahead of this request's in the stream belongs to a request started before its response, so its
/// position is at most <c>S</c>; the pipelines read the stream in order, so a total of at least <c>S</c> includes it.
/// The latency runs from the request's scheduled send time (not its actual start, so a sender that falls behind shows
/// up as latency) to the receipt of that snapshot; with concurrent requests this is an upper bound. Every beacon of a
/// batch gets its request's latency.
/// </remarks>
public static partial class LatencyHarness
{
    /// <summary>The default scenarios: 1,000 pixel beacons a second, and 20,000 a second in batches of 100.</summary>
    public static IReadOnlyList<LatencyScenario> DefaultScenarios { get; } =
    [
        new(1_000, 1, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(3)),
        new(20_000, 100, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(3)),
    ];

    /// <summary>Parses <c>--rate N --batch N --duration 20s --warmup 3s</c> (each rate given makes one scenario; none gives the defaults).</summary>
    public static IReadOnlyList<LatencyScenario> Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rates = new List<int>();
        var batches = new List<int>();
        TimeSpan duration = TimeSpan.FromSeconds(20);
        TimeSpan warmup = TimeSpan.FromSeconds(3);
        for (int i = 0; i < args.Length; i += 2)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--rate":
                    rates.Add(int.Parse(value, CultureInfo.InvariantCulture));
                    break;
                case "--batch":
                    batches.Add(int.Parse(value, CultureInfo.InvariantCulture));
                    break;
                case "--duration":
                    duration = ParseDuration(value);
                    break;
                case "--warmup":
                    warmup = ParseDuration(value);
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}. Options: --rate <beacons/s> (repeatable) --batch <beacons per request> (one per rate) --duration <20s> --warmup <3s>.");
            }
        }

        if (rates.Count == 0)
        {
            return DefaultScenarios.Select(s => s with { Duration = duration, Warmup = warmup }).ToList();
        }

        return rates.Select((rate, i) => new LatencyScenario(
            rate > 0 ? rate : throw new ArgumentException("--rate must be positive."),
            i < batches.Count ? Math.Clamp(batches[i], 1, 500) : rate > 2_000 ? 100 : 1,
            duration,
            warmup)).ToList();
    }

    /// <summary>Runs each scenario on a fresh service and prints a table.</summary>
    public static async Task<IReadOnlyList<LatencyResult>> RunAsync(IReadOnlyList<LatencyScenario> scenarios, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        ArgumentNullException.ThrowIfNull(output);
        var results = new List<LatencyResult>();
        foreach (var scenario in scenarios)
        {
            output.WriteLine($"Measuring {scenario.Rate:N0} beacons/s ({(scenario.BatchSize == 1 ? "one pixel GET each" : $"POST batches of {scenario.BatchSize}")}) for {scenario.Duration.TotalSeconds:0.#} s after a {scenario.Warmup.TotalSeconds:0.#} s warm-up...");
            output.Flush();
            results.Add(await RunAsync(scenario, cancellationToken).ConfigureAwait(false));
        }

        output.WriteLine();
        output.WriteLine("| target beacons/s | beacons per request | achieved beacons/s | beacons measured | p50 ms | p99 ms | max ms | refused requests | unseen beacons |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Scenario.Rate:N0} | {r.Scenario.BatchSize} | {r.AchievedRate:N0} | {r.Beacons:N0} | {r.P50Ms:0.0} | {r.P99Ms:0.0} | {r.MaxMs:0.0} | {r.Refused} | {r.Unseen} |"));
        }

        output.Flush();
        return results;
    }

    /// <summary>Runs one scenario on a fresh service (Kestrel on a free loopback port).</summary>
    public static async Task<LatencyResult> RunAsync(LatencyScenario scenario, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        string lake = Directory.CreateTempSubdirectory("web-analytics-latency-").FullName;
        string password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var app = WebAnalyticsApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            "--PrintStartup=false",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            "--Generators:ShopPerSecond=0",
            "--Generators:MenuPerSecond=0",
            $"--Lake:Folder={lake}",
            "--Dashboard:User=latency",
            $"--Dashboard:Password={password}",
        ]);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return await MeasureAsync(address, "latency", password, scenario, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await app.StopAsync(stopping.Token).ConfigureAwait(false);
            }

            await app.DisposeAsync().ConfigureAwait(false);
            try
            {
                Directory.Delete(lake, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<LatencyResult> MeasureAsync(Uri address, string user, string password, LatencyScenario scenario, CancellationToken cancellationToken)
    {
        using var dashboardHandler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var dashboard = new HttpClient(dashboardHandler) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        await SignInAsync(dashboard, user, password, cancellationToken).ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var snapshots = new List<(long Time, long Events)>();
        using var streamRequest = new HttpRequestMessage(HttpMethod.Get, "/api/stream");
        using var stream = await dashboard.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        stream.EnsureSuccessStatusCode();
        var reader = Task.Run(() => ReadEventsAsync(stream, snapshots, stop.Token), CancellationToken.None);

        using var beaconHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 32, UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var beacons = new HttpClient(beaconHandler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        using var inFlight = new SemaphoreSlim(256, 256);
        var sends = new List<Task<(long Scheduled, long Bound, int Size, bool Ok)>>();
        long started = 0;
        long nonce = 0;

        TimeSpan total = scenario.Warmup + scenario.Duration;
        long requests = (long)Math.Ceiling(total.TotalSeconds * scenario.Rate / scenario.BatchSize);
        double interval = (double)scenario.BatchSize / scenario.Rate * Stopwatch.Frequency;
        long begin = Stopwatch.GetTimestamp();
        long measureFrom = begin + (long)(scenario.Warmup.TotalSeconds * Stopwatch.Frequency);
        for (long k = 0; k < requests; k++)
        {
            long due = begin + (long)(k * interval);
            long wait = due - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            }

            await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
            long first = nonce;
            nonce += scenario.BatchSize;
            sends.Add(SendAsync(due, first));
        }

        var sent = await Task.WhenAll(sends).ConfigureAwait(false);
        long lastAck = Stopwatch.GetTimestamp();

        // Wait (no fixed sleep) until the dashboard shows every beacon, or give up after a minute.
        long expected = Interlocked.Read(ref started);
        long giveUp = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        while (LastCount(snapshots) < expected && Stopwatch.GetTimestamp() < giveUp && !reader.IsCompleted)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await reader.ConfigureAwait(false);

        (long Time, long Events)[] log;
        lock (snapshots)
        {
            log = snapshots.ToArray();
        }

        var latencies = new List<(double Ms, int Weight)>();
        long measured = 0;
        long unseen = 0;
        long refused = 0;
        foreach (var (scheduled, bound, size, ok) in sent)
        {
            if (!ok)
            {
                refused++;
                continue;
            }

            int at = FirstAtLeast(log, bound);
            if (scheduled < measureFrom)
            {
                continue;
            }

            if (at < 0)
            {
                unseen += size;
                continue;
            }

            latencies.Add(((log[at].Time - scheduled) * 1000.0 / Stopwatch.Frequency, size));
            measured += size;
        }

        latencies.Sort((a, b) => a.Ms.CompareTo(b.Ms));
        double seconds = (double)(lastAck - measureFrom) / Stopwatch.Frequency;
        return new LatencyResult(scenario, measured, seconds > 0 ? (measured + unseen) / seconds : 0, Quantile(latencies, 0.50), Quantile(latencies, 0.99), latencies.Count > 0 ? latencies[^1].Ms : double.NaN, refused, unseen);

        async Task<(long, long, int, bool)> SendAsync(long due, long first)
        {
            try
            {
                Interlocked.Add(ref started, scenario.BatchSize);
                long ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                using var request = scenario.BatchSize == 1
                    ? new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/collect.gif?page=/latency&vid=lat-{first}&lt=120&ts={ts}"))
                    : new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = new StringContent(Batch(first, scenario.BatchSize, ts), Encoding.UTF8, "application/json") };
                using var response = await beacons.SendAsync(request, cancellationToken).ConfigureAwait(false);
                long bound = Interlocked.Read(ref started);
                return (due, bound, scenario.BatchSize, response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted);
            }
            catch (HttpRequestException)
            {
                return (due, long.MaxValue, scenario.BatchSize, false);
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    private static string Batch(long first, int size, long ts)
    {
        var json = new StringBuilder(size * 80).Append("{\"events\":[");
        for (int i = 0; i < size; i++)
        {
            json.Append(i == 0 ? string.Empty : ",")
                .Append(CultureInfo.InvariantCulture, $"{{\"page\":\"/latency\",\"visitorId\":\"lat-{first + i}\",\"loadTimeMs\":120,\"timestamp\":{ts}}}");
        }

        return json.Append("]}").ToString();
    }

    private static async Task ReadEventsAsync(HttpResponseMessage response, List<(long Time, long Events)> snapshots, CancellationToken cancellationToken)
    {
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            long max = 0;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                long received = Stopwatch.GetTimestamp();
                using var document = JsonDocument.Parse(line.AsMemory("data: ".Length));
                long events = document.RootElement.GetProperty("totals").GetProperty("events").GetInt64();
                max = Math.Max(max, events);
                lock (snapshots)
                {
                    snapshots.Add((received, max));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static long LastCount(List<(long Time, long Events)> snapshots)
    {
        lock (snapshots)
        {
            return snapshots.Count > 0 ? snapshots[^1].Events : 0;
        }
    }

    private static int FirstAtLeast((long Time, long Events)[] log, long events)
    {
        int lo = 0;
        int hi = log.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (log[mid].Events >= events)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo < log.Length ? lo : -1;
    }

    private static double Quantile(List<(double Ms, int Weight)> sorted, double q)
    {
        long total = sorted.Sum(s => (long)s.Weight);
        if (total == 0)
        {
            return double.NaN;
        }

        long rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        foreach (var (ms, weight) in sorted)
        {
            seen += weight;
            if (seen >= rank)
            {
                return ms;
            }
        }

        return sorted[^1].Ms;
    }

    private static async Task SignInAsync(HttpClient client, string user, string password, CancellationToken cancellationToken)
    {
        string form = await client.GetStringAsync(new Uri("/signin", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        string token = WebUtility.HtmlDecode(AntiforgeryField().Match(form).Groups["token"].Value);
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["user"] = user,
            ["password"] = password,
            ["returnUrl"] = "/",
        });
        using var response = await client.PostAsync(new Uri("/signin", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in failed: {(int)response.StatusCode}.");
        }
    }

    private static TimeSpan ParseDuration(string value)
        => value.EndsWith('s') && double.TryParse(value[..^1], CultureInfo.InvariantCulture, out double seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.Parse(value, CultureInfo.InvariantCulture);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
