using System.Globalization;

namespace Analytics.Streaming.S3;

/// <summary>
/// How Athena computes the values of one partition column without a catalog lookup (partition projection): the
/// <c>projection.&lt;column&gt;.*</c> table properties.
/// </summary>
/// <remarks>
/// With projection on, every partition column of the table needs one. <see cref="Injected"/> works for any value
/// but requires queries to name the value (<c>WHERE page = 'home'</c>); <see cref="Enum"/> suits a few dozen known
/// values; <see cref="IntegerRange"/> a numeric range.
/// </remarks>
public sealed class PartitionProjection
{
    private readonly KeyValuePair<string, string>[] _properties;

    private PartitionProjection(string type, params KeyValuePair<string, string>[] properties)
    {
        Type = type;
        _properties = properties;
    }

    /// <summary>Gets the projection type: <c>injected</c>, <c>enum</c>, <c>integer</c> or <c>date</c>.</summary>
    public string Type { get; }

    /// <summary>A column whose value each query supplies in its <c>WHERE</c> clause; the default for partitions from record fields.</summary>
    /// <returns>The projection.</returns>
    public static PartitionProjection Injected() => new("injected");

    /// <summary>A column with a known, short list of values.</summary>
    /// <param name="values">The values, as they appear in keys (at least one, none containing a comma).</param>
    /// <returns>The projection.</returns>
    public static PartitionProjection Enum(params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0 || Array.Exists(values, v => string.IsNullOrEmpty(v) || v.Contains(',', StringComparison.Ordinal)))
        {
            throw new ArgumentException("An enum projection needs at least one value, and values must be non-empty and free of commas.", nameof(values));
        }

        return new("enum", new KeyValuePair<string, string>("values", string.Join(',', values)));
    }

    /// <summary>A column of integers in a range, optionally zero padded to <paramref name="digits"/>.</summary>
    /// <param name="minimum">The smallest value.</param>
    /// <param name="maximum">The largest value.</param>
    /// <param name="digits">The zero-padded width as written in keys; 0 for none.</param>
    /// <returns>The projection.</returns>
    public static PartitionProjection IntegerRange(long minimum, long maximum, int digits = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minimum, maximum);
        ArgumentOutOfRangeException.ThrowIfNegative(digits);
        var range = new KeyValuePair<string, string>("range", string.Create(CultureInfo.InvariantCulture, $"{minimum},{maximum}"));
        return digits == 0
            ? new("integer", range)
            : new("integer", range, new KeyValuePair<string, string>("digits", digits.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>A date column written with a Java <c>DateTimeFormatter</c> pattern, such as Firehose's <c>yyyy/MM/dd/HH</c>.</summary>
    /// <param name="format">The pattern as keys show it.</param>
    /// <param name="range">The range, such as <c>2024/01/01/00,NOW</c>.</param>
    /// <param name="interval">The step between values.</param>
    /// <param name="unit">The unit of the step: <c>YEARS</c>, <c>MONTHS</c>, <c>DAYS</c>, <c>HOURS</c>, <c>MINUTES</c>.</param>
    /// <returns>The projection.</returns>
    public static PartitionProjection Date(string format, string range, int interval, string unit)
    {
        ArgumentException.ThrowIfNullOrEmpty(format);
        ArgumentException.ThrowIfNullOrEmpty(range);
        ArgumentException.ThrowIfNullOrEmpty(unit);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, 1);
        return new(
            "date",
            new KeyValuePair<string, string>("format", format),
            new KeyValuePair<string, string>("range", range),
            new KeyValuePair<string, string>("interval", interval.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("interval.unit", unit));
    }

    /// <summary>Returns the table properties of this projection for <paramref name="column"/>, such as <c>projection.page.type</c>.</summary>
    /// <param name="column">The partition column name.</param>
    /// <returns>The properties, type first.</returns>
    public IReadOnlyList<KeyValuePair<string, string>> ToProperties(string column)
    {
        var result = new List<KeyValuePair<string, string>>(_properties.Length + 1)
        {
            new($"projection.{column}.type", Type),
        };
        foreach (var (name, value) in _properties)
        {
            result.Add(new($"projection.{column}.{name}", value));
        }

        return result;
    }
}
