using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming;

/// <summary>Turns the bytes of a raw record into an event, or says why it cannot.</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>Implementations must not throw for bad input: they return <see langword="false"/> and the error.</remarks>
public interface IEventDecoder<T>
{
    /// <summary>Decodes one record.</summary>
    /// <param name="record">The raw record.</param>
    /// <param name="value">The event when decoding succeeds.</param>
    /// <param name="error">What is wrong with the record when decoding fails; the record becomes a dead letter with it.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> holds the event.</returns>
    bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out T value, out DecodeError error);
}

/// <summary>Why a record could not be decoded.</summary>
/// <param name="Reason">The dead-letter reason: usually <see cref="DeadLetterReason.DecodeFailed"/>, or <see cref="DeadLetterReason.InvalidValue"/> for a well-formed value out of range.</param>
/// <param name="Message">What is wrong, for a person reading the dead letter.</param>
public readonly record struct DecodeError(DeadLetterReason Reason, string Message);
