using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming;

/// <summary>Turns the bytes of a raw record into an event, or says why it cannot.</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>Implementations must not throw for bad input: they return <see langword="false"/> and an error message.</remarks>
public interface IEventDecoder<T>
{
    /// <summary>Decodes one record.</summary>
    /// <param name="record">The raw record.</param>
    /// <param name="value">The event when decoding succeeds.</param>
    /// <param name="error">What is wrong with the record when decoding fails.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> holds the event.</returns>
    bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error);
}
