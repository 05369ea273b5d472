namespace Analytics.Streaming;

/// <summary>Built-in sinks.</summary>
public static class Sinks
{
    /// <summary>A sink that accepts and drops everything: benchmarks, or outputs deliberately ignored.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <returns>The sink.</returns>
    public static ISink<T> Discard<T>() => DiscardSink<T>.Instance;

    /// <summary>A sink that hands every written batch to <paramref name="write"/> (console output, a dashboard, an in-process queue).</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="write">Receives each batch; the memory is only valid during the call.</param>
    /// <returns>The sink; its flush does nothing because <paramref name="write"/> completes each batch.</returns>
    public static ISink<T> Callback<T>(Func<ReadOnlyMemory<T>, CancellationToken, ValueTask> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return new CallbackSink<T>(write);
    }

    private sealed class DiscardSink<T> : ISink<T>
    {
        public static readonly DiscardSink<T> Instance = new();

        public ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class CallbackSink<T>(Func<ReadOnlyMemory<T>, CancellationToken, ValueTask> write) : ISink<T>
    {
        public ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken) => write(items, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
