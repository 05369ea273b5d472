using System.Globalization;
using System.Text;

namespace Analytics.Streaming.OpenSearch;

/// <summary>How often a time-based index starts anew.</summary>
public enum OpenSearchIndexInterval
{
    /// <summary>One index: the name as given.</summary>
    None,

    /// <summary>One index per UTC day: <c>{prefix}yyyy.MM.dd</c>.</summary>
    Daily,

    /// <summary>One index per UTC month: <c>{prefix}yyyy.MM</c>.</summary>
    Monthly,
}

/// <summary>Entry points for the index an item goes to.</summary>
public static class OpenSearchIndex
{
    /// <summary>Every item goes to one index, alias or data stream.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="name">The index name: lowercase, at most 255 bytes, none of <c>\ / * ? " &lt; &gt; | , #</c>, space or colon, not starting with <c>-</c>, <c>_</c> or <c>+</c>.</param>
    /// <returns>The index choice.</returns>
    /// <exception cref="ArgumentException">The name is not a valid index name.</exception>
    public static OpenSearchIndex<T> Fixed<T>(string name) => new(name, OpenSearchIndexInterval.None, null);

    /// <summary>
    /// One index per UTC day of the item's time (<c>page-views-2026.01.31</c>): for results, the window start, so a
    /// replay or a late update of a window always lands in the index that already holds it.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="prefix">The name's beginning, such as <c>page-views-</c>; same rules as an index name.</param>
    /// <param name="time">Reads the item's time; must not throw.</param>
    /// <returns>The index choice.</returns>
    public static OpenSearchIndex<T> Daily<T>(string prefix, Func<T, DateTimeOffset> time) => new(prefix, OpenSearchIndexInterval.Daily, time ?? throw new ArgumentNullException(nameof(time)));

    /// <summary>One index per UTC month of the item's time (<c>page-views-2026.01</c>).</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="prefix">The name's beginning; same rules as an index name.</param>
    /// <param name="time">Reads the item's time; must not throw.</param>
    /// <returns>The index choice.</returns>
    public static OpenSearchIndex<T> Monthly<T>(string prefix, Func<T, DateTimeOffset> time) => new(prefix, OpenSearchIndexInterval.Monthly, time ?? throw new ArgumentNullException(nameof(time)));

    /// <summary>Window results in one index per day or month of their window start.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The aggregate type.</typeparam>
    /// <param name="prefix">The name's beginning, such as <c>page-views-</c>.</param>
    /// <param name="interval">Daily or monthly (<see cref="OpenSearchIndexInterval.None"/> takes <paramref name="prefix"/> as the whole name).</param>
    /// <returns>The index choice.</returns>
    public static OpenSearchIndex<WindowResult<TKey, TValue>> ForResults<TKey, TValue>(string prefix, OpenSearchIndexInterval interval = OpenSearchIndexInterval.Daily)
        => interval == OpenSearchIndexInterval.None
            ? Fixed<WindowResult<TKey, TValue>>(prefix)
            : new(prefix, interval, static r => r.Window.Start);

    /// <summary>Checks an index name (or prefix) against the rules OpenSearch enforces.</summary>
    /// <param name="name">The name.</param>
    /// <param name="reason">Why it is invalid.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidName(string name, out string? reason)
    {
        reason = null;
        if (string.IsNullOrEmpty(name))
        {
            reason = "it is empty";
        }
        else if (name is "." or "..")
        {
            reason = "'.' and '..' are not index names";
        }
        else if (name[0] is '-' or '_' or '+')
        {
            reason = "it starts with '-', '_' or '+'";
        }
        else if (Encoding.UTF8.GetByteCount(name) > 255)
        {
            reason = "it is longer than 255 bytes";
        }
        else
        {
            foreach (char c in name)
            {
                if (char.IsUpper(c))
                {
                    reason = "it has upper-case letters";
                    break;
                }

                if (c is '\\' or '/' or '*' or '?' or '"' or '<' or '>' or '|' or ',' or '#' or ' ' or ':' || char.IsControl(c))
                {
                    reason = $"it contains '{c}'";
                    break;
                }
            }
        }

        return reason is null;
    }
}

/// <summary>The index an item goes to: one name, or one per day or month of the item's time. Thread-safe.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class OpenSearchIndex<T>
{
    private readonly Func<T, DateTimeOffset>? _time;
    private Cached? _last;

    internal OpenSearchIndex(string name, OpenSearchIndexInterval interval, Func<T, DateTimeOffset>? time)
    {
        if (!OpenSearchIndex.IsValidName(name, out string? reason) && !(interval != OpenSearchIndexInterval.None && name.Length == 0))
        {
            throw new ArgumentException($"'{name}' is not a valid OpenSearch index name{(interval == OpenSearchIndexInterval.None ? string.Empty : " prefix")}: {reason}.", nameof(name));
        }

        Prefix = name;
        Interval = interval;
        _time = time;
    }

    /// <summary>Gets the index name, or the prefix of time-based names.</summary>
    public string Prefix { get; }

    /// <summary>Gets how often the index starts anew.</summary>
    public OpenSearchIndexInterval Interval { get; }

    /// <summary>Gets the index pattern that matches every index this choice names (<c>page-views-*</c>), for an index template.</summary>
    public string Pattern => Interval == OpenSearchIndexInterval.None ? Prefix : Prefix + "*";

    /// <summary>Returns the name of the index <paramref name="item"/> goes to.</summary>
    /// <param name="item">The item.</param>
    /// <returns>The index name.</returns>
    public string NameOf(T item)
    {
        if (_time is null)
        {
            return Prefix;
        }

        var utc = _time(item).UtcDateTime;
        long bucket = Interval == OpenSearchIndexInterval.Daily ? utc.Ticks / TimeSpan.TicksPerDay : (utc.Year * 12L) + utc.Month;
        var last = Volatile.Read(ref _last);
        if (last is not null && last.Bucket == bucket)
        {
            return last.Name;
        }

        string name = Interval == OpenSearchIndexInterval.Daily
            ? string.Create(CultureInfo.InvariantCulture, $"{Prefix}{utc:yyyy'.'MM'.'dd}")
            : string.Create(CultureInfo.InvariantCulture, $"{Prefix}{utc:yyyy'.'MM}");
        Volatile.Write(ref _last, new Cached(bucket, name));
        return name;
    }

    private sealed record Cached(long Bucket, string Name);
}
