using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Limits of the beacon endpoints (configuration section <c>Ingest</c>).</summary>
public sealed class IngestLimits
{
    /// <summary>Gets or sets the largest JSON body accepted (bytes); larger bodies get 413.</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Gets or sets the most events in one JSON batch.</summary>
    public int MaxEventsPerBatch { get; set; } = 500;

    /// <summary>Gets or sets how far in the past a beacon's own timestamp may lie.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets how far ahead of the server clock a beacon's own timestamp may lie; such a beacon counts at the server's time.</summary>
    public TimeSpan MaxAhead { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Why a beacon request was refused; counted per reason and shown on the dashboard.</summary>
public enum RejectReason
{
    /// <summary>The body is not JSON (or not UTF-8), or not of the expected shape.</summary>
    Malformed,

    /// <summary>The body is larger than <see cref="IngestLimits.MaxBodyBytes"/>, or the batch has too many events.</summary>
    TooLarge,

    /// <summary>A field is missing, too long or out of range.</summary>
    InvalidField,

    /// <summary>The content type is neither JSON nor plain text.</summary>
    UnsupportedMediaType,
}

/// <summary>
/// Turns beacons into <see cref="ClickEvent"/>s: the pixel's query parameters and the JSON batch share the field
/// rules. Required: the page and the visitor id. Optional: referrer, user agent (else the request's), load time,
/// menu item, and the browser's own timestamp (else the time the server received it). Strings with control
/// characters or broken UTF-16 are refused, never cleaned up silently.
/// </summary>
public sealed class BeaconParser(IngestLimits limits, TimeProvider time)
{
    /// <summary>The longest page path or URL.</summary>
    public const int MaxPageLength = 512;

    /// <summary>The longest visitor id.</summary>
    public const int MaxVisitorLength = 128;

    /// <summary>The longest referrer.</summary>
    public const int MaxReferrerLength = 1024;

    /// <summary>The longest user agent.</summary>
    public const int MaxUserAgentLength = 512;

    /// <summary>The longest menu item name.</summary>
    public const int MaxMenuItemLength = 128;

    /// <summary>The largest load time accepted, in milliseconds (ten minutes).</summary>
    public const double MaxLoadTimeMs = 600_000;

    /// <summary>Gets the limits.</summary>
    public IngestLimits Limits => limits;

    /// <summary>Parses the pixel's query parameters: <c>page</c>, <c>vid</c>, <c>ref</c>, <c>ua</c>, <c>lt</c>, <c>item</c>, <c>ts</c> (Unix ms or ISO 8601).</summary>
    public ClickEvent? ParseQuery(Func<string, string?> query, string? headerUserAgent, string? headerReferrer, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(errors);
        // A pixel's Referer header names the page that shows it: the page when the beacon does not say; the visit's
        // own referrer (document.referrer) only comes in "ref".
        var fields = new Fields(
            query("page") ?? headerReferrer,
            query("vid"),
            query("ref"),
            query("ua") ?? headerUserAgent,
            query("lt"),
            query("item"),
            query("ts"));
        return Validate(fields, string.Empty, errors);
    }

    /// <summary>
    /// Parses a JSON batch: <c>{"events":[{...}]}</c> or a bare array of events, each with <c>page</c>,
    /// <c>visitorId</c>, and optionally <c>referrer</c>, <c>userAgent</c>, <c>loadTimeMs</c>, <c>menuItem</c>,
    /// <c>timestamp</c> (Unix ms or ISO 8601). All or nothing: one invalid event refuses the batch, with every
    /// problem listed by field.
    /// </summary>
    public IReadOnlyList<ClickEvent>? ParseJson(ReadOnlyMemory<byte> body, string? headerUserAgent, Dictionary<string, string[]> errors, out RejectReason reason)
    {
        ArgumentNullException.ThrowIfNull(errors);
        reason = RejectReason.Malformed;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            errors["body"] = [$"The body is not valid JSON in UTF-8: {ex.Message}"];
            return null;
        }
        catch (ArgumentException ex)
        {
            errors["body"] = [$"The body is not valid JSON in UTF-8: {ex.Message}"];
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            JsonElement array;
            if (root.ValueKind == JsonValueKind.Array)
            {
                array = root;
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.Array)
            {
                array = events;
            }
            else
            {
                errors["body"] = ["Send {\"events\": [ ... ]} or an array of events."];
                return null;
            }

            int count = array.GetArrayLength();
            if (count == 0)
            {
                errors["events"] = ["The batch is empty."];
                reason = RejectReason.InvalidField;
                return null;
            }

            if (count > limits.MaxEventsPerBatch)
            {
                errors["events"] = [$"The batch has {count} events; at most {limits.MaxEventsPerBatch} are accepted per request."];
                reason = RejectReason.TooLarge;
                return null;
            }

            var result = new List<ClickEvent>(count);
            int index = 0;
            foreach (var item in array.EnumerateArray())
            {
                string prefix = $"events[{index}].";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    errors[$"events[{index}]"] = ["Each event is a JSON object."];
                }
                else if (Validate(ReadFields(item, prefix, headerUserAgent, errors), prefix, errors) is { } click)
                {
                    result.Add(click);
                }

                if (errors.Count >= 20)
                {
                    break;
                }

                index++;
            }

            reason = RejectReason.InvalidField;
            return errors.Count == 0 ? result : null;
        }
    }

    private static Fields ReadFields(JsonElement item, string prefix, string? headerUserAgent, Dictionary<string, string[]> errors)
    {
        string? Text(string name)
        {
            if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                errors[prefix + name] = ["Must be a string."];
                return null;
            }

            try
            {
                return value.GetString();
            }
            catch (InvalidOperationException)
            {
                errors[prefix + name] = ["Is not valid UTF-16 (a lone surrogate escape)."];
                return null;
            }
        }

        string? Scalar(string name)
        {
            if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.String => Text(name),
                _ => Invalid(name),
            };
        }

        string? Invalid(string name)
        {
            errors[prefix + name] = ["Must be a number or a string."];
            return null;
        }

        return new Fields(Text("page"), Text("visitorId"), Text("referrer"), Text("userAgent") ?? headerUserAgent, Scalar("loadTimeMs"), Text("menuItem"), Scalar("timestamp"));
    }

    private ClickEvent? Validate(Fields f, string prefix, Dictionary<string, string[]> errors)
    {
        int before = errors.Count;
        string? page = Required(f.Page, "page", MaxPageLength);
        if (page is not null)
        {
            page = NormalizePage(page);
            if (page is null)
            {
                errors[prefix + "page"] = ["Must be a path starting with '/' or an http(s) URL."];
            }
        }

        string? visitor = Required(f.Visitor, prefix.Length == 0 ? "vid" : "visitorId", MaxVisitorLength);
        if (visitor is not null && !visitor.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            errors[prefix + (prefix.Length == 0 ? "vid" : "visitorId")] = ["Only ASCII letters, digits, '-', '_', '.' and ':' are allowed."];
            visitor = null;
        }

        string? referrer = Optional(f.Referrer, prefix.Length == 0 ? "ref" : "referrer", MaxReferrerLength);
        string? agent = Optional(f.UserAgent, prefix.Length == 0 ? "ua" : "userAgent", MaxUserAgentLength);
        string? item = Optional(f.MenuItem, prefix.Length == 0 ? "item" : "menuItem", MaxMenuItemLength);
        double latency = 0;
        if (f.LoadTime is { } lt && (!double.TryParse(lt, NumberStyles.Float, CultureInfo.InvariantCulture, out latency) || !double.IsFinite(latency) || latency < 0 || latency > MaxLoadTimeMs))
        {
            errors[prefix + (prefix.Length == 0 ? "lt" : "loadTimeMs")] = [$"Must be a number of milliseconds from 0 to {MaxLoadTimeMs:0}."];
        }

        var now = time.GetUtcNow();
        var timestamp = now;
        if (f.Timestamp is { } ts)
        {
            string name = prefix.Length == 0 ? "ts" : "timestamp";
            if (!TryParseTime(ts, out timestamp))
            {
                errors[prefix + name] = ["Must be Unix milliseconds or an ISO 8601 time with an offset."];
            }
            else if (timestamp < now - limits.MaxAge || timestamp > now + limits.MaxAhead)
            {
                errors[prefix + name] = [$"Must lie between {limits.MaxAge.TotalHours:0.#} h before and {limits.MaxAhead.TotalMinutes:0.#} min after the server's clock ({now:O})."];
            }
            else if (timestamp > now)
            {
                // A visitor's clock running fast: counted now, so that it cannot move the watermark past everyone
                // else's events and make them late.
                timestamp = now;
            }
        }

        if (errors.Count > before || page is null || visitor is null)
        {
            return null;
        }

        return new ClickEvent(timestamp, visitor, page, ReferrerHost(referrer), UserAgents.Family(agent), Math.Round(latency, 1), string.IsNullOrWhiteSpace(item) ? null : item.Trim());

        string? Required(string? value, string name, int max)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[prefix + name] = ["Required."];
                return null;
            }

            return Optional(value, name, max);
        }

        string? Optional(string? value, string name, int max)
        {
            if (value is null)
            {
                return null;
            }

            if (value.Length > max)
            {
                errors[prefix + name] = [$"At most {max} characters ({value.Length} given)."];
                return null;
            }

            if (!IsCleanText(value))
            {
                errors[prefix + name] = ["Contains control characters, or is not valid UTF-8 or UTF-16."];
                return null;
            }

            return value;
        }
    }

    /// <summary>Whether a string has no control characters, no lone surrogates and no U+FFFD (what invalid UTF-8 in a query string decodes to).</summary>
    public static bool IsCleanText(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsControl(c) || c == '\uFFFD')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string? NormalizePage(string page)
    {
        page = page.Trim();
        if (page.StartsWith('/'))
        {
            int cut = page.IndexOfAny(['?', '#']);
            return cut >= 0 ? page[..cut] : page;
        }

        return Uri.TryCreate(page, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.AbsolutePath : null;
    }

    /// <summary>The referrer as the dashboard groups it: the host of a URL without <c>www.</c>, <c>(direct)</c> when empty, otherwise the text itself (campaign names such as <c>newsletter</c>).</summary>
    public static string ReferrerHost(string? referrer)
    {
        if (string.IsNullOrWhiteSpace(referrer))
        {
            return "(direct)";
        }

        referrer = referrer.Trim();
        if (Uri.TryCreate(referrer, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
        {
            string host = uri.IdnHost;
            return host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? host[4..] : host;
        }

        return referrer.Length > 100 ? referrer[..100] : referrer;
    }

    private static bool TryParseTime(string text, out DateTimeOffset value)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms) && ms is > 0 and < 253_402_300_799_999)
        {
            value = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            return true;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double fractional) && double.IsFinite(fractional) && fractional is > 0 and < 253_402_300_799_999)
        {
            value = DateTimeOffset.FromUnixTimeMilliseconds((long)fractional);
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    private readonly record struct Fields(string? Page, string? Visitor, string? Referrer, string? UserAgent, string? LoadTime, string? MenuItem, string? Timestamp);
}

/// <summary>Browser families from user-agent strings (the generators send the family itself, which maps to itself).</summary>
public static class UserAgents
{
    private static readonly string[] Families = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera", "curl", "Bot", "Other"];

    /// <summary>The family of a user agent: Bot, curl, Edge, Samsung Internet, Opera, Firefox, Chrome, Safari or Other.</summary>
    public static string Family(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return "Other";
        }

        foreach (string family in Families)
        {
            if (string.Equals(userAgent, family, StringComparison.OrdinalIgnoreCase))
            {
                return family;
            }
        }

        return userAgent switch
        {
            _ when Has("bot") || Has("spider") || Has("crawl") || Has("slurp") => "Bot",
            _ when Has("curl/") || Has("wget/") || Has("python-requests") => "curl",
            _ when Has("edg/") || Has("edga/") || Has("edgios/") => "Edge",
            _ when Has("samsungbrowser/") => "Samsung Internet",
            _ when Has("opr/") || Has("opera") => "Opera",
            _ when Has("firefox/") || Has("fxios/") => "Firefox",
            _ when Has("chrome/") || Has("crios/") || Has("chromium/") => "Chrome",
            _ when Has("safari/") => "Safari",
            _ => "Other",
        };

        bool Has(string part) => userAgent.Contains(part, StringComparison.OrdinalIgnoreCase);
    }
}
