namespace Analytics.Streaming.Testing;

/// <summary>A sink that keeps everything written to it, and what was flushed, for assertions.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>Thread-safe.</remarks>
public sealed class CollectingSink<T> : ISink<T>
{
    private readonly Lock _gate = new();
    private readonly List<T> _items = [];
    private int _flushedCount;

    /// <summary>Gets a snapshot of every item written so far.</summary>
    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }
    }

    /// <summary>Gets a snapshot of the items that a completed <see cref="FlushAsync"/> made durable.</summary>
    public IReadOnlyList<T> FlushedItems
    {
        get
        {
            lock (_gate)
            {
                return _items.GetRange(0, _flushedCount);
            }
        }
    }

    /// <summary>Gets the number of completed flushes.</summary>
    public int FlushCount { get; private set; }

    /// <summary>Gets a value indicating whether the sink was disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <inheritdoc />
    public ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        lock (_gate)
        {
            _items.AddRange(items.Span);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _flushedCount = _items.Count;
            FlushCount++;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        IsDisposed = true;
        return ValueTask.CompletedTask;
    }
}
