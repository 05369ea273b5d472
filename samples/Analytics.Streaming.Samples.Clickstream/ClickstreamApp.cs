using System.Globalization;
using Analytics.Streaming.Scoring;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream;

/// <summary>Settings of the sample, from the command line.</summary>
/// <param name="Duration">How long to generate traffic; <see langword="null"/> runs until Ctrl+C.</param>
/// <param name="EventsPerSecond">Generated page views per second.</param>
public sealed record ClickstreamOptions(TimeSpan? Duration, int EventsPerSecond)
{
    /// <summary>Parses <c>--duration 30s|00:01:00</c> and <c>--rate 2000</c>.</summary>
    public static ClickstreamOptions Parse(string[] args)
    {
        TimeSpan? duration = null;
        int rate = 2_000;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is not ("--duration" or "--rate"))
            {
                throw new ArgumentException($"Unknown option {args[i]}. Options: --duration <30s|hh:mm:ss> --rate <events per second>.");
            }

            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--duration":
                    duration = value.EndsWith('s') && double.TryParse(value[..^1], CultureInfo.InvariantCulture, out double seconds)
                        ? TimeSpan.FromSeconds(seconds)
                        : TimeSpan.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                default:
                    rate = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
            }
        }

        return new ClickstreamOptions(duration, rate);
    }
}

/// <summary>
/// Wires the sample: a generated clickstream feeds two pipelines, events per minute (tumbling, live updates) and top
/// pages (sliding 10 s every 5 s), whose results are printed as they come.
/// </summary>
public static class ClickstreamApp
{
    /// <summary>Runs the sample until the duration ends (open windows are then closed and printed) or <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunAsync(ClickstreamOptions options, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        // A duration means that many seconds of page views at the chosen rate: on a slow machine the run takes longer
        // instead of producing less.
        long? total = options.Duration is { } duration ? (long)(duration.TotalSeconds * options.EventsPerSecond) : null;
        var generator = new ClickstreamGenerator(options.EventsPerSecond, time, total);
        var printer = new ConsolePrinter(output, time);

        var perMinute = StreamPipeline.Create<ClickEvent>(new() { Name = "events-per-minute", TimeProvider = time })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(2))
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Emit(EmitMode.OnUpdate)
            .Aggregate(a => a.Count().And(a.Average(e => e.LatencyMs)))
            .To(Sinks.Callback<WindowResult<GlobalKey, (long, double)>>(printer.PrintMinuteAsync))
            .Build();

        var topPages = StreamPipeline.Create<ClickEvent>(new() { Name = "top-pages", TimeProvider = time })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(2))
            .KeyBy(e => e.Page)
            .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)))
            .Aggregate(a => a.Count())
            .To(Sinks.Callback<WindowResult<string, long>>(printer.PrintTopPagesAsync))
            .Build();

        // Unique visitors (HyperLogLog), top referrers and user agents (Space-Saving) every 10 seconds.
        var audience = StreamPipeline.Create<ClickEvent>(new() { Name = "audience", TimeProvider = time })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(2))
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.DistinctCount(e => e.UserId).And(a.TopK(e => e.Referrer, k: 3)).And(a.TopK(e => e.UserAgent, k: 3)))
            .To(Sinks.Callback<WindowResult<GlobalKey, (long, TopKResult<string>, TopKResult<string>)>>(printer.PrintAudienceAsync))
            .Build();

        // Abnormal traffic: per-second page views, p99 load time and unique visitors scored by a random cut forest.
        var traffic = StreamPipeline.Create<ClickEvent>(new() { Name = "traffic", TimeProvider = time })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(2))
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
            .Aggregate(a => a.Count().And(a.Quantiles(e => e.LatencyMs)).And(a.DistinctCount(e => e.UserId, precision: 10)))
            .To(Sinks.Callback<WindowResult<GlobalKey, (long, QuantileSummary, long)>>(printer.CheckTrafficAsync))
            .Build();

        output.WriteLine($"Generating {options.EventsPerSecond:N0} page views per second{(options.Duration is { } d ? $" for {d}" : " until Ctrl+C")}.");
        // One generated stream read once for the four pipelines (fan-out).
        await StreamPipeline.RunAsync(generator, [perMinute, topPages, audience, traffic], cancellationToken).ConfigureAwait(false);

        var stats = topPages.Statistics;
        output.WriteLine($"Done: {stats.RecordsIn:N0} page views read, {stats.RecordsAccepted:N0} in windows, {stats.LateRecords:N0} late, {stats.DeadLetters:N0} dead letters, {stats.ResultsOut:N0} results.");
    }

    private sealed class ConsolePrinter(TextWriter output, TimeProvider time)
    {
        private readonly Lock _gate = new();
        private DateTimeOffset _lastUpdate = DateTimeOffset.MinValue;

        public ValueTask PrintMinuteAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Count, double AverageLatency)>> results, CancellationToken cancellationToken)
        {
            foreach (var result in results.Span)
            {
                bool closed = result.Reason != EmitReason.Update;
                var now = time.GetUtcNow();
                if (!closed && now - _lastUpdate < TimeSpan.FromSeconds(5))
                {
                    continue;
                }

                _lastUpdate = now;
                Write($"{(closed ? "minute closed " : "this minute   ")} {result.Window.Start:HH:mm}  {result.Value.Count,8:N0} page views   avg load {result.Value.AverageLatency,6:N1} ms");
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask PrintTopPagesAsync(ReadOnlyMemory<WindowResult<string, long>> results, CancellationToken cancellationToken)
        {
            foreach (var window in results.ToArray().GroupBy(r => r.Window))
            {
                var top = window.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(5);
                Write($"top pages     {window.Key.Start:HH:mm:ss}-{window.Key.End:HH:mm:ss}  {string.Join("  ", top.Select(r => $"{r.Key} {r.Value:N0}"))}");
            }

            return ValueTask.CompletedTask;
        }

        private static readonly string[] TrafficDimensions = ["page views", "p99 load time", "unique visitors"];

        private readonly RandomCutForest _traffic = new(new RandomCutForestOptions { Dimensions = 3, TreeCount = 30, SampleSize = 64, OutputAfter = 16 });

        public ValueTask PrintAudienceAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long, TopKResult<string>, TopKResult<string>)>> results, CancellationToken cancellationToken)
        {
            foreach (var result in results.Span)
            {
                (long visitors, TopKResult<string> referrers, TopKResult<string> agents) = result.Value;
                Write($"audience      {result.Window.Start:HH:mm:ss}-{result.Window.End:HH:mm:ss}  {visitors,6:N0} unique visitors   referrers {Top(referrers)}   agents {Top(agents)}");
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask CheckTrafficAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long, QuantileSummary, long)>> results, CancellationToken cancellationToken)
        {
            Span<double> why = stackalloc double[3];
            foreach (var result in results.Span)
            {
                (long views, QuantileSummary latency, long visitors) = result.Value;
                AnomalyResult score;
                lock (_gate)
                {
                    score = _traffic.Update([views, latency.P99, visitors], why);
                }

                if (score.IsAnomaly)
                {
                    int top = why.IndexOf(MaxOf(why));
                    Write($"ABNORMAL      {result.Window.Start:HH:mm:ss}  score {score.Score:F2}, mostly {TrafficDimensions[top]}: {views:N0} views, p99 {latency.P99:N0} ms, {visitors:N0} visitors");
                }
            }

            return ValueTask.CompletedTask;
        }

        private static string Top(TopKResult<string> top) => string.Join(", ", top.Items.Select(h => $"{h.Item} {h.Count:N0}"));

        private static double MaxOf(ReadOnlySpan<double> values)
        {
            double max = double.MinValue;
            foreach (double v in values)
            {
                max = Math.Max(max, v);
            }

            return max;
        }

        private void Write(string line)
        {
            lock (_gate)
            {
                output.WriteLine($"[{time.GetUtcNow():HH:mm:ss}] {line}");
            }
        }
    }
}
