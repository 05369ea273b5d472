using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>Buffers writes and makes them durable on flush; the given flush writes half its buffer, then fails (a crash mid-flush).</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="write">Makes one item durable (a table shared across restarts).</param>
/// <param name="failOnFlush">The flush that fails (1 for the first); 0 never fails.</param>
internal sealed class FailingFlushSink<T>(Action<T> write, int failOnFlush) : ISink<T>
{
    private readonly List<T> _buffer = [];
    private int _flushes;

    public ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        _buffer.AddRange(items.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        bool fail = ++_flushes == failOnFlush;
        foreach (var item in _buffer.Take(fail ? _buffer.Count / 2 : _buffer.Count))
        {
            write(item);
        }

        _buffer.Clear();
        return fail ? throw new IOException("connection reset in the middle of a flush") : ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Delivers its batches a little at a time, so several checkpoints happen during the run.</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="batches">The batches.</param>
internal sealed class SlowSource<T>(IReadOnlyList<RecordBatch<T>> batches) : IEventSource<T>
{
    public bool CanResume => true;

    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in new InMemorySource<T>(batches).ReadBatchesAsync(context, cancellationToken))
        {
            yield return batch;
            await Task.Delay(5, cancellationToken);
        }
    }
}

/// <summary>Yields its first batches a little at a time, then stops the run (cancels it) and waits to be cancelled.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <param name="batches">The batches.</param>
/// <param name="stopAfter">How many batches are read before the stop.</param>
/// <param name="stop">Cancelled to stop the run.</param>
internal sealed class StoppingSource<T>(IReadOnlyList<RecordBatch<T>> batches, int stopAfter, CancellationTokenSource stop) : IEventSource<T>
{
    public bool CanResume => true;

    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var batch in batches.Take(stopAfter))
        {
            await Task.Delay(2, cancellationToken);
            yield return batch;
        }

        await stop.CancelAsync();
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

/// <summary>Window results by identity, as a sink that writes by identity holds them; shared across restarts.</summary>
/// <typeparam name="TKey">The result key type.</typeparam>
/// <typeparam name="TValue">The result value type.</typeparam>
internal sealed class ResultTable<TKey, TValue>
{
    private readonly Dictionary<string, TValue> _rows = [];

    public SortedDictionary<string, TValue> Rows
    {
        get
        {
            lock (_rows)
            {
                return new(_rows, StringComparer.Ordinal);
            }
        }
    }

    public void Write(WindowResult<TKey, TValue> result)
    {
        lock (_rows)
        {
            _rows[result.Id] = result.Value;
        }
    }
}

/// <summary>Source batches as a source reading several partitions in turn delivers them.</summary>
internal static class InterleavedBatches
{
    /// <summary>
    /// Deals <paramref name="items"/> into batches of five records, one batch per partition (<c>p0</c>, <c>p1</c>, ...)
    /// in turn, numbered from 1 in each partition; the last batch of each partition ends it.
    /// </summary>
    public static RecordBatch<T>[] Of<T>(IReadOnlyList<T> items, int partitions, int batchesPerPartition)
    {
        var batches = new List<RecordBatch<T>>();
        int n = 0;
        for (int b = 0; b < batchesPerPartition; b++)
        {
            for (int p = 0; p < partitions; p++)
            {
                var records = Enumerable.Range(0, 5).Select(i => new StreamRecord<T>(items[n++], SequenceNumber.FromInt64((b * 5) + i + 1))).ToArray();
                batches.Add(new RecordBatch<T>($"p{p}", records, isEndOfPartition: b == batchesPerPartition - 1));
            }
        }

        return [.. batches];
    }
}
