using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming;

/// <summary>
/// A table of rows by key that a pipeline joins its events with (<c>Enrich</c>): ad id to campaign, product id to
/// category, machine id to site. Readers see one complete version of the table at a time; <see cref="Replace"/> swaps
/// in a new version atomically, so a table can be refreshed while pipelines run.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TRow">The row type.</typeparam>
/// <remarks>Lookups are lock-free reads of an immutable frozen dictionary; thread-safe.</remarks>
public sealed class LookupTable<TKey, TRow>
    where TKey : notnull
{
    private FrozenDictionary<TKey, TRow> _rows;
    private long _version;
    private long _failedLoads;
    private Exception? _lastLoadFailure;

    /// <summary>Creates a table.</summary>
    /// <param name="rows">The first version of the rows; a key given twice keeps its last row.</param>
    /// <param name="comparer">Compares keys; the default comparer when <see langword="null"/>.</param>
    public LookupTable(IEnumerable<KeyValuePair<TKey, TRow>> rows, IEqualityComparer<TKey>? comparer = null)
    {
        Comparer = comparer ?? EqualityComparer<TKey>.Default;
        _rows = Freeze(rows);
    }

    /// <summary>Gets the key comparer.</summary>
    public IEqualityComparer<TKey> Comparer { get; }

    /// <summary>Gets the number of rows in the current version.</summary>
    public int Count => Volatile.Read(ref _rows).Count;

    /// <summary>Gets the number of times <see cref="Replace"/> swapped in a new version.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>
    /// Gets the number of loads of <see cref="RefreshAsync"/> that failed (each kept the version before it). A health
    /// check that sees it grow while <see cref="Version"/> stands still knows the table is going stale.
    /// </summary>
    public long FailedLoads => Interlocked.Read(ref _failedLoads);

    /// <summary>Gets the exception of the latest failed load of <see cref="RefreshAsync"/>; <see langword="null"/> when none failed.</summary>
    public Exception? LastLoadFailure => Volatile.Read(ref _lastLoadFailure);

    /// <summary>Looks a key up in the current version.</summary>
    /// <param name="key">The key.</param>
    /// <param name="row">The row, when found.</param>
    /// <returns><see langword="true"/> when the key has a row.</returns>
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TRow row) => Volatile.Read(ref _rows).TryGetValue(key, out row);

    /// <summary>Swaps in a new version of the rows; lookups already running finish on the old one.</summary>
    /// <param name="rows">The new rows.</param>
    public void Replace(IEnumerable<KeyValuePair<TKey, TRow>> rows)
    {
        var frozen = Freeze(rows);
        Volatile.Write(ref _rows, frozen);
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Reloads the table every <paramref name="interval"/> until <paramref name="cancellationToken"/> is cancelled. A load
    /// that throws keeps the current version and is retried at the next interval; the failure is counted in
    /// <see cref="FailedLoads"/>, kept in <see cref="LastLoadFailure"/> and handed to <paramref name="onError"/>.
    /// </summary>
    /// <param name="load">Reads the current rows (a database query, a file, an S3 object).</param>
    /// <param name="interval">The time between loads.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="onError">Receives each load failure (to log it, say); when <see langword="null"/>, failures are seen only in <see cref="FailedLoads"/> and <see cref="LastLoadFailure"/>.</param>
    /// <param name="cancellationToken">Stops refreshing.</param>
    /// <returns>A task that completes when refreshing stops (cancellation is not an error).</returns>
    public async Task RefreshAsync(
        Func<CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TRow>>>> load,
        TimeSpan interval,
        TimeProvider? timeProvider = null,
        Action<Exception>? onError = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var time = timeProvider ?? TimeProvider.System;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
                Replace(await load(cancellationToken).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed reload keeps the last good version: the caller hears of it through onError.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Volatile.Write(ref _lastLoadFailure, ex);
                Interlocked.Increment(ref _failedLoads);
                onError?.Invoke(ex);
            }
        }
    }

    private FrozenDictionary<TKey, TRow> Freeze(IEnumerable<KeyValuePair<TKey, TRow>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var map = new Dictionary<TKey, TRow>(Comparer);
        foreach (var (key, row) in rows)
        {
            map[key] = row;
        }

        return map.ToFrozenDictionary(Comparer);
    }
}
