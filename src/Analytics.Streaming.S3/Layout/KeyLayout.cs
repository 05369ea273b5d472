using System.Globalization;
using System.Text;

namespace Analytics.Streaming.S3;

/// <summary>
/// How the sink turns a record into the partition folders of its object key: partitions from record fields
/// (dynamic partitioning) followed by time partitions, in Hive style (<c>page=home/year=2024/month=05/day=01/hour=10/</c>)
/// or plain Firehose style (<c>home/2024/05/01/10/</c>).
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>
/// <para>
/// Time partitions use the record's own time when a selector is given (event time: a replay lands in the same
/// folders) and otherwise the time the sink receives the record, from its <see cref="TimeProvider"/> (arrival
/// time, like Firehose, whose default prefix uses the arrival time of the oldest record in each object). Always UTC.
/// </para>
/// <para>
/// Partition values are escaped the way Hive escapes path names (<c>/</c>, <c>=</c>, <c>%</c>, <c>:</c>, quotes,
/// control characters and a few more become <c>%XX</c>); <see langword="null"/> and empty values become
/// <c>__HIVE_DEFAULT_PARTITION__</c>. Dots are not escaped, so in a plain layout a value of <c>.</c> or <c>..</c>
/// gives a key no store accepts; the sink sends such records (and those whose key would pass 1,024 bytes) to its
/// error prefix. Layouts are immutable and thread safe; selectors must be pure and cheap.
/// </para>
/// </remarks>
public sealed class KeyLayout<T>
{
    /// <summary>The folder name Hive gives to a <see langword="null"/> or empty partition value.</summary>
    public const string DefaultPartitionValue = "__HIVE_DEFAULT_PARTITION__";

    private static readonly string[] HiveTimeColumns = ["year", "month", "day", "hour"];
    private readonly Func<T, DateTimeOffset>? _timeOf;
    private readonly FieldPartition[] _fields;

    private KeyLayout(PartitionStyle style, TimePartitioning time, Func<T, DateTimeOffset>? timeOf, FieldPartition[] fields)
    {
        if (!System.Enum.IsDefined(style))
        {
            throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown partition style.");
        }

        if (!System.Enum.IsDefined(time))
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "Unknown time partitioning.");
        }

        Style = style;
        TimePartitioning = time;
        _timeOf = timeOf;
        _fields = fields;
    }

    /// <summary>Gets the naming of partition folders.</summary>
    public PartitionStyle Style { get; }

    /// <summary>Gets how deep time partitions go.</summary>
    public TimePartitioning TimePartitioning { get; }

    /// <summary>Gets a value indicating whether time partitions use the arrival time (no time selector) rather than a time from the record.</summary>
    public bool UsesArrivalTime => _timeOf is null;

    /// <summary>Gets the partition columns in key order, with their Athena types and projections.</summary>
    public IReadOnlyList<PartitionColumn> Columns => BuildColumns(firstYear: 2020);

    /// <summary>Hive-style partitions: <c>year=YYYY/month=MM/day=dd/hour=HH/</c> down to <paramref name="time"/>, after any field partitions.</summary>
    /// <param name="time">How deep time partitions go; <see cref="TimePartitioning.Hour"/> by default.</param>
    /// <param name="timeOf">The record's time (event time, a window start); <see langword="null"/> for arrival time.</param>
    /// <returns>The layout.</returns>
    public static KeyLayout<T> Hive(TimePartitioning time = TimePartitioning.Hour, Func<T, DateTimeOffset>? timeOf = null)
        => new(PartitionStyle.Hive, time, timeOf, []);

    /// <summary>The Firehose default: <c>YYYY/MM/dd/HH/</c> in UTC, after any field partitions (as bare values).</summary>
    /// <param name="timeOf">The record's time; <see langword="null"/> (like Firehose) for arrival time.</param>
    /// <returns>The layout.</returns>
    public static KeyLayout<T> FirehoseDefault(Func<T, DateTimeOffset>? timeOf = null)
        => new(PartitionStyle.Plain, TimePartitioning.Hour, timeOf, []);

    /// <summary>Plain (non-Hive) partitions: bare values, time as <c>YYYY/MM/dd/HH/</c> down to <paramref name="time"/>.</summary>
    /// <param name="time">How deep time partitions go.</param>
    /// <param name="timeOf">The record's time; <see langword="null"/> for arrival time.</param>
    /// <returns>The layout.</returns>
    public static KeyLayout<T> Plain(TimePartitioning time, Func<T, DateTimeOffset>? timeOf = null)
        => new(PartitionStyle.Plain, time, timeOf, []);

    /// <summary>No partitions: every object sits directly in the table folder.</summary>
    /// <returns>The layout.</returns>
    public static KeyLayout<T> Unpartitioned() => new(PartitionStyle.Hive, TimePartitioning.None, null, []);

    /// <summary>Returns a layout that adds a partition from a record field (dynamic partitioning), placed after earlier field partitions and before the time partitions.</summary>
    /// <param name="column">The partition column name: lower-case letters, digits and underscores, starting with a letter or underscore.</param>
    /// <param name="valueOf">The record's value for the column; <see langword="null"/> or empty goes to <see cref="DefaultPartitionValue"/>.</param>
    /// <param name="projection">How Athena projects the column; <see cref="PartitionProjection.Injected"/> by default.</param>
    /// <returns>A new layout.</returns>
    public KeyLayout<T> PartitionBy(string column, Func<T, string?> valueOf, PartitionProjection? projection = null)
    {
        ArgumentNullException.ThrowIfNull(valueOf);
        ValidateColumnName(column);
        foreach (var existing in BuildColumns(2020))
        {
            if (existing.Name == column)
            {
                throw new ArgumentException($"Partition column '{column}' is already part of the layout; pick another name.", nameof(column));
            }
        }

        return new(Style, TimePartitioning, _timeOf, [.. _fields, new FieldPartition(column, valueOf, projection ?? PartitionProjection.Injected())]);
    }

    /// <summary>Returns the partition folders of a record, such as <c>page=home/year=2024/month=05/</c> (empty when unpartitioned).</summary>
    /// <param name="record">The record.</param>
    /// <param name="arrivalTime">The arrival time, used when the layout has no time selector.</param>
    /// <returns>The folders, each ending with <c>/</c>.</returns>
    public string GetPartitionPath(T record, DateTimeOffset arrivalTime) => FormatPath(Evaluate(record, arrivalTime));

    /// <summary>Returns the partition columns in key order, with Hive time columns projected over <paramref name="firstYear"/> to 2099.</summary>
    /// <param name="firstYear">The first year of time projections.</param>
    /// <returns>The columns.</returns>
    public IReadOnlyList<PartitionColumn> BuildColumns(int firstYear)
    {
        var columns = new List<PartitionColumn>(_fields.Length + 4);
        foreach (var field in _fields)
        {
            columns.Add(new PartitionColumn(field.Column, "string", field.Projection, Style == PartitionStyle.Hive ? $"{field.Column}=${{{field.Column}}}" : $"${{{field.Column}}}"));
        }

        int depth = (int)TimePartitioning;
        if (depth == 0)
        {
            return columns;
        }

        if (Style == PartitionStyle.Hive)
        {
            for (int i = 0; i < depth; i++)
            {
                string name = HiveTimeColumns[i];
                var projection = i switch
                {
                    0 => PartitionProjection.IntegerRange(firstYear, 2099),
                    1 => PartitionProjection.IntegerRange(1, 12, 2),
                    2 => PartitionProjection.IntegerRange(1, 31, 2),
                    _ => PartitionProjection.IntegerRange(0, 23, 2),
                };
                columns.Add(new PartitionColumn(name, "int", projection, $"{name}=${{{name}}}"));
            }
        }
        else
        {
            var (name, format, start, unit) = TimePartitioning switch
            {
                TimePartitioning.Year => ("year", "yyyy", $"{firstYear}", "YEARS"),
                TimePartitioning.Month => ("month", "yyyy/MM", $"{firstYear}/01", "MONTHS"),
                TimePartitioning.Day => ("dt", "yyyy/MM/dd", $"{firstYear}/01/01", "DAYS"),
                _ => ("datehour", "yyyy/MM/dd/HH", $"{firstYear}/01/01/00", "HOURS"),
            };
            columns.Add(new PartitionColumn(name, "string", PartitionProjection.Date(format, $"{start},NOW", 1, unit), $"${{{name}}}"));
        }

        return columns;
    }

    internal PartitionKey Evaluate(T record, DateTimeOffset arrivalTime)
    {
        long bucket = 0;
        if (TimePartitioning != TimePartitioning.None)
        {
            var time = (_timeOf is null ? arrivalTime : _timeOf(record)).UtcDateTime;
            bucket = TimePartitioning switch
            {
                TimePartitioning.Year => new DateTime(time.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks,
                TimePartitioning.Month => new DateTime(time.Year, time.Month, 1, 0, 0, 0, DateTimeKind.Utc).Ticks,
                TimePartitioning.Day => time.Date.Ticks,
                _ => time.Ticks - (time.Ticks % TimeSpan.TicksPerHour),
            };
        }

        // Values are escaped here, so the U+001F separator (a control character, always escaped) cannot occur in one.
        string fields = string.Empty;
        if (_fields.Length == 1)
        {
            fields = EscapeValue(_fields[0].ValueOf(record));
        }
        else if (_fields.Length > 1)
        {
            var text = new StringBuilder();
            for (int i = 0; i < _fields.Length; i++)
            {
                if (i > 0)
                {
                    text.Append('\u001F');
                }

                text.Append(EscapeValue(_fields[i].ValueOf(record)));
            }

            fields = text.ToString();
        }

        return new PartitionKey(bucket, fields);
    }

    internal string FormatPath(PartitionKey key)
    {
        var path = new StringBuilder();
        if (_fields.Length > 0)
        {
            string[] values = _fields.Length == 1 ? [key.Fields] : key.Fields.Split('\u001F');
            for (int i = 0; i < _fields.Length; i++)
            {
                if (Style == PartitionStyle.Hive)
                {
                    path.Append(_fields[i].Column).Append('=');
                }

                path.Append(values[i]).Append('/');
            }
        }

        if (TimePartitioning != TimePartitioning.None)
        {
            var time = new DateTime(key.TimeBucket, DateTimeKind.Utc);
            int depth = (int)TimePartitioning;
            for (int i = 0; i < depth; i++)
            {
                if (Style == PartitionStyle.Hive)
                {
                    path.Append(HiveTimeColumns[i]).Append('=');
                }

                path.Append(i switch
                {
                    0 => time.Year.ToString("D4", CultureInfo.InvariantCulture),
                    1 => time.Month.ToString("D2", CultureInfo.InvariantCulture),
                    2 => time.Day.ToString("D2", CultureInfo.InvariantCulture),
                    _ => time.Hour.ToString("D2", CultureInfo.InvariantCulture),
                }).Append('/');
            }
        }

        return path.ToString();
    }

    /// <summary>Escapes a partition value the way Hive escapes path names.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The folder-safe value; <see cref="DefaultPartitionValue"/> for <see langword="null"/> or empty.</returns>
    public static string EscapeValue(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return DefaultPartitionValue;
        }

        int first = 0;
        while (first < value.Length && !MustEscape(value[first]))
        {
            first++;
        }

        if (first == value.Length)
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 8).Append(value, 0, first);
        for (int i = first; i < value.Length; i++)
        {
            char c = value[i];
            if (MustEscape(c))
            {
                text.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    private static bool MustEscape(char c)
        => c < ' ' || c is '"' or '#' or '%' or '\'' or '*' or '/' or ':' or '=' or '?' or '\\' or '\u007F' or '{' or '[' or ']' or '^';

    private static void ValidateColumnName(string column)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        bool valid = column[0] is (>= 'a' and <= 'z') or '_';
        foreach (char c in column)
        {
            valid &= c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_';
        }

        if (!valid || column.Length > 128)
        {
            throw new ArgumentException($"Partition column '{column}' must use lower-case letters, digits and underscores, start with a letter or underscore, and be at most 128 characters (Athena and Glue rules).", nameof(column));
        }
    }

    private sealed record FieldPartition(string Column, Func<T, string?> ValueOf, PartitionProjection Projection);
}

/// <summary>A partition column of a layout.</summary>
/// <param name="Name">The column name.</param>
/// <param name="AthenaType">The column's Athena/Hive type (<c>string</c> or <c>int</c>).</param>
/// <param name="Projection">How Athena projects its values.</param>
/// <param name="LocationSegment">The key segment in <c>storage.location.template</c> form, such as <c>year=${year}</c>.</param>
public sealed record PartitionColumn(string Name, string AthenaType, PartitionProjection Projection, string LocationSegment);

/// <summary>The evaluated partition of a record: a time bucket (UTC ticks) and the escaped field values joined by U+001F.</summary>
internal readonly record struct PartitionKey(long TimeBucket, string Fields);
