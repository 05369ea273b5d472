using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming;

/// <summary>One record of a <see cref="RecordBatch{T}"/>: a value and its place in the batch's partition.</summary>
/// <typeparam name="T">The value type: a decoded event, or <see cref="RawRecord"/> before decoding.</typeparam>
/// <param name="Value">The record's value.</param>
/// <param name="Sequence">The sequence number inside the batch's partition.</param>
/// <param name="SubSequence">The index inside an aggregated record; zero otherwise.</param>
public readonly record struct StreamRecord<T>(T Value, SequenceNumber Sequence, long SubSequence = 0)
{
    private readonly T _value = Value;

    /// <summary>Gets the record's value.</summary>
    public T Value
    {
        get => _value;
        init => _value = value;
    }

    /// <summary>The value in place: the engines' loops hand it to the operators without copying a large struct.</summary>
    [UnscopedRef]
    internal ref readonly T ValueRef => ref _value;
}
