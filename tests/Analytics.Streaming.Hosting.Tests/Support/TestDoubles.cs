using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Hosting.Tests;

/// <summary>A page view: the event the test pipelines count and sum per page and 10-second window.</summary>
public sealed record Click(string Page, DateTimeOffset Time, int Value);

/// <summary>
/// A tiny stream in memory, like a Kinesis shard: an append-only log per partition that readers resume from a position
/// and then wait on for new records until the stream is completed or the read is cancelled.
/// </summary>
public sealed class LogSource<T> : IEventSource<T>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<T>> _partitions = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _completed;
    private int _waiting;
    private int _enumerations;

    /// <summary>Creates a source with these partitions (announced to the pipeline before any record).</summary>
    public LogSource(params string[] partitions)
    {
        foreach (string partition in partitions)
        {
            _partitions[partition] = [];
        }
    }

    public bool CanResume => true;

    /// <summary>Gets a value indicating whether a reader has caught up and waits for new records.</summary>
    public bool IsWaiting => Volatile.Read(ref _waiting) > 0;

    /// <summary>Gets how many times the source was enumerated.</summary>
    public int Enumerations => Volatile.Read(ref _enumerations);

    /// <summary>Gets or sets how far behind the newest record each batch says its reader is.</summary>
    public TimeSpan? BehindLatest { get; set; }

    public void Append(string partition, params IEnumerable<T> values)
    {
        lock (_gate)
        {
            _partitions[partition].AddRange(values);
            Signal();
        }
    }

    /// <summary>Ends the stream: readers deliver what is left, end every partition and finish.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Signal();
        }
    }

    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _enumerations);
        string[] partitions;
        lock (_gate)
        {
            partitions = [.. _partitions.Keys];
        }

        context.AnnouncePartitions(partitions.Where(p => !context.IsFinished(p)));
        var next = partitions.ToDictionary(p => p, p => context.GetResumePosition(p) is { } resume ? resume.Sequence.ToInt64() : 0L, StringComparer.Ordinal);
        var ended = new HashSet<string>(partitions.Where(context.IsFinished), StringComparer.Ordinal);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batches = new List<RecordBatch<T>>();
            Task changed;
            bool completed;
            lock (_gate)
            {
                changed = _changed.Task;
                completed = _completed;
                foreach (string partition in partitions)
                {
                    if (ended.Contains(partition))
                    {
                        continue;
                    }

                    var log = _partitions[partition];
                    var records = new List<StreamRecord<T>>();
                    for (long i = next[partition]; i < log.Count && records.Count < 50; i++)
                    {
                        records.Add(new StreamRecord<T>(log[(int)i], SequenceNumber.FromInt64(i + 1)));
                    }

                    next[partition] += records.Count;
                    bool end = completed && next[partition] == log.Count;
                    if (records.Count > 0 || end)
                    {
                        var endPosition = records.Count == 0 ? new StreamPosition(partition, SequenceNumber.FromInt64(Math.Max(1, log.Count))) : (StreamPosition?)null;
                        batches.Add(new RecordBatch<T>(partition, records.ToArray(), endPosition: endPosition, isEndOfPartition: end, behindLatest: BehindLatest));
                    }

                    if (end)
                    {
                        ended.Add(partition);
                    }
                }
            }

            foreach (var batch in batches)
            {
                yield return batch;
            }

            if (ended.Count == partitions.Length)
            {
                yield break;
            }

            if (batches.Count == 0)
            {
                Interlocked.Increment(ref _waiting);
                try
                {
                    await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _waiting);
                }
            }
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}

/// <summary>A source whose every read fails at once.</summary>
public sealed class FailingSource<T> : IEventSource<T>
{
    private int _reads;

    public bool CanResume => true;

    public int Reads => Volatile.Read(ref _reads);

    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        await Task.Yield();
        throw new IOException("The stream is unreachable.");
#pragma warning disable CS0162 // An async iterator needs a yield.
        yield break;
#pragma warning restore CS0162
    }
}

/// <summary>
/// A results table written by identity, like a database table keyed by <see cref="WindowResult{TKey, TValue}.Id"/>: a
/// write replaces a row unless the row holds more records (versioned upsert). Outlives hosts, like a real table.
/// </summary>
public sealed class TableSink<TKey, TValue> : ISink<WindowResult<TKey, TValue>>
{
    private readonly ConcurrentDictionary<string, WindowResult<TKey, TValue>> _rows = new(StringComparer.Ordinal);
    private volatile bool _failing;
    private int _failures;
    private TaskCompletionSource? _flushGate;

    /// <summary>Gets or sets a value indicating whether every write and flush fails (the database is down).</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    /// <summary>Gets how many writes or flushes failed.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public IReadOnlyDictionary<string, WindowResult<TKey, TValue>> Rows => _rows;

    /// <summary>Makes flushes wait until <see cref="ReleaseFlushes"/> (a database that hangs).</summary>
    public void HoldFlushes() => _flushGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseFlushes() => _flushGate?.TrySetResult();

    public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<TKey, TValue>> items, CancellationToken cancellationToken)
    {
        Fail();
        foreach (var item in items.Span)
        {
            _rows.AddOrUpdate(item.Id, item, (_, existing) => existing.RecordCount > item.RecordCount ? existing : item);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_flushGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        Fail();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Fail()
    {
        if (_failing)
        {
            Interlocked.Increment(ref _failures);
            throw new IOException("The results table is unavailable.");
        }
    }
}

/// <summary>Keeps every log entry written through it.</summary>
public sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(string Category, LogLevel Level, EventId Id, string Message)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class ListLogger(string category, ConcurrentQueue<(string, LogLevel, EventId, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => entries.Enqueue((category, logLevel, eventId, formatter(state, exception)));
    }
}

/// <summary>Waits for conditions by polling them; never a fixed sleep standing in for a condition.</summary>
public static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)((timeout ?? Timeout).TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Moves a fake clock forward in steps until <paramref name="condition"/> holds, letting the work it wakes run between steps.</summary>
    public static async Task DriveUntilAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, TimeSpan step, Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(Timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Timed out driving the clock until {what}.");
            }

            time.Advance(step);
            await Task.Delay(5);
        }
    }
}
