using System.Text.Json;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.Benchmarks.Parquet;

/// <summary>A 10-column clickstream event: timestamps, strings with repeats, numbers.</summary>
public sealed class ClickEvent
{
    public DateTime Timestamp { get; init; }

    public string EventType { get; init; } = string.Empty;

    public string Page { get; init; } = string.Empty;

    public string? Referrer { get; init; }

    public long UserId { get; init; }

    public string SessionId { get; init; } = string.Empty;

    public string Country { get; init; } = string.Empty;

    public string Device { get; init; } = string.Empty;

    public int DurationMs { get; init; }

    public double Revenue { get; init; }
}

/// <summary>Deterministic clickstream rows and their Parquet map / JSON lines form.</summary>
public static class Clickstream
{
    private static readonly string[] EventTypes = ["page_view", "click", "scroll", "add_to_cart", "purchase", "search"];
    private static readonly string[] Countries = ["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA", "AU", "ES", "IT", "NL", "SE", "PL", "MX"];
    private static readonly string[] Devices = ["desktop", "mobile", "tablet"];

    public static ParquetRecordMap<ClickEvent> Map { get; } = ParquetRecordMap.For<ClickEvent>()
        .Timestamp("event_time", e => e.Timestamp)
        .String("event_type", e => e.EventType, nullable: false)
        .String("page", e => e.Page, nullable: false)
        .String("referrer", e => e.Referrer)
        .Int64("user_id", e => e.UserId)
        .String("session_id", e => e.SessionId, nullable: false)
        .String("country", e => e.Country, nullable: false)
        .String("device", e => e.Device, nullable: false)
        .Int32("duration_ms", e => e.DurationMs)
        .Double("revenue", e => e.Revenue)
        .Build();

    public static ClickEvent[] Generate(int count, int seed = 42)
    {
        var random = new Random(seed);
        var pages = Enumerable.Range(0, 500).Select(i => $"/products/category-{i % 20}/item-{i}").ToArray();
        var referrers = Enumerable.Range(0, 100).Select(i => $"https://search.example.com/q?term={i}").ToArray();
        var start = new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc);
        var events = new ClickEvent[count];
        long ticks = start.Ticks;
        for (int i = 0; i < count; i++)
        {
            ticks += random.Next(1, 20_000); // ~1 ms apart on average, microsecond precision
            long user = random.Next(1, 100_000);
            events[i] = new ClickEvent
            {
                Timestamp = new DateTime(ticks, DateTimeKind.Utc),
                EventType = EventTypes[random.Next(EventTypes.Length)],
                Page = pages[random.Next(pages.Length)],
                Referrer = random.Next(4) == 0 ? null : referrers[random.Next(referrers.Length)],
                UserId = user,
                SessionId = "s-" + (user * 31 % 20_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
                Country = Countries[random.Next(Countries.Length)],
                Device = Devices[random.Next(Devices.Length)],
                DurationMs = random.Next(0, 120_000),
                Revenue = random.Next(10) == 0 ? Math.Round(random.NextDouble() * 200, 2) : 0,
            };
        }

        return events;
    }

    /// <summary>Writes the rows as JSON lines (the raw zone's format, and what the size target compares with).</summary>
    public static void WriteJsonLines(ReadOnlySpan<ClickEvent> events, Stream output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        foreach (var e in events)
        {
            writer.WriteStartObject();
            writer.WriteString("event_time", e.Timestamp);
            writer.WriteString("event_type", e.EventType);
            writer.WriteString("page", e.Page);
            if (e.Referrer is null)
            {
                writer.WriteNull("referrer");
            }
            else
            {
                writer.WriteString("referrer", e.Referrer);
            }

            writer.WriteNumber("user_id", e.UserId);
            writer.WriteString("session_id", e.SessionId);
            writer.WriteString("country", e.Country);
            writer.WriteString("device", e.Device);
            writer.WriteNumber("duration_ms", e.DurationMs);
            writer.WriteNumber("revenue", e.Revenue);
            writer.WriteEndObject();
            writer.Flush();
            output.WriteByte((byte)'\n');
            writer.Reset();
        }
    }
}
