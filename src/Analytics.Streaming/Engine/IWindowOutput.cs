namespace Analytics.Streaming;

/// <summary>Receives what a <see cref="WindowProcessor{TSource, TKey, TResult}"/> produces.</summary>
/// <typeparam name="TSource">The type the source delivers (late records carry it).</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>Called synchronously from the processor's thread; implementations should only buffer.</remarks>
public interface IWindowOutput<TSource, TKey, TResult>
{
    /// <summary>Receives a window result.</summary>
    /// <param name="result">The result.</param>
    void OnResult(in WindowResult<TKey, TResult> result);

    /// <summary>Receives a record that arrived after all its windows were purged.</summary>
    /// <param name="record">The late record.</param>
    void OnLateRecord(in LateRecord<TSource> record);

    /// <summary>Receives a record that could not be processed.</summary>
    /// <param name="deadLetter">The dead letter.</param>
    void OnDeadLetter(DeadLetter deadLetter);
}
