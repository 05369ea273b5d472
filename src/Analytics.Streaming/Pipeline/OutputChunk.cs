namespace Analytics.Streaming;

/// <summary>What the processing stage hands to the delivery stage: the outputs of one or more batches, and a checkpoint to save once they are flushed.</summary>
internal sealed class OutputChunk<TEvent, TKey, TResult> : IWindowOutput<TEvent, TKey, TResult>
{
    public GrowableBuffer<WindowResult<TKey, TResult>> Results { get; } = new();

    public GrowableBuffer<LateRecord<TEvent>> LateRecords { get; } = new();

    public GrowableBuffer<DeadLetter> DeadLetters { get; } = new();

    /// <summary>Gets or sets the checkpoint taken right after these outputs: saved once they (and everything before them) are flushed.</summary>
    public PipelineCheckpoint? Checkpoint { get; set; }

    /// <summary>Gets or sets a value indicating whether this is the last chunk of the run (its commit is bounded by the shutdown timeout).</summary>
    public bool IsFinal { get; set; }

    public bool HasContent => Results.Count > 0 || LateRecords.Count > 0 || DeadLetters.Count > 0 || Checkpoint is not null;

    public void OnResult(in WindowResult<TKey, TResult> result) => Results.Add(result);

    public void OnLateRecord(in LateRecord<TEvent> record) => LateRecords.Add(record);

    public void OnDeadLetter(DeadLetter deadLetter) => DeadLetters.Add(deadLetter);
}

/// <summary>An append-only buffer that exposes its items as memory (for <see cref="ISink{T}.WriteAsync"/>).</summary>
internal sealed class GrowableBuffer<T>
{
    private T[] _items = [];

    public int Count { get; private set; }

    public ReadOnlyMemory<T> Memory => _items.AsMemory(0, Count);

    public void Add(in T item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Math.Max(16, _items.Length * 2));
        }

        _items[Count++] = item;
    }
}
