using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Analytics.Streaming;

/// <summary>
/// The position of a record inside one source partition: a non-negative integer of any size, such as a
/// Kinesis sequence number (usually 56 decimal digits) or an offset in a file.
/// </summary>
/// <remarks>
/// Values that fit in an <see cref="long"/> are stored without allocation; larger values keep their canonical
/// decimal text (no leading zeros), which compares correctly by length and then ordinal order. Sequence numbers
/// are only comparable inside the partition that issued them.
/// </remarks>
public readonly struct SequenceNumber : IEquatable<SequenceNumber>, IComparable<SequenceNumber>
{
    private readonly string? _text;
    private readonly long _value;

    private SequenceNumber(long value, string? text)
    {
        _value = value;
        _text = text;
    }

    /// <summary>Gets the smallest sequence number, zero.</summary>
    public static SequenceNumber Zero => default;

    /// <summary>Creates a sequence number from a non-negative integer.</summary>
    /// <param name="value">The value; must not be negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static SequenceNumber FromInt64(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new SequenceNumber(value, null);
    }

    /// <summary>Parses a decimal sequence number such as a Kinesis <c>SequenceNumber</c>.</summary>
    /// <param name="text">Decimal digits without sign; leading zeros are ignored.</param>
    /// <exception cref="FormatException">The text is empty or holds anything but decimal digits.</exception>
    public static SequenceNumber Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result)
            ? result
            : throw new FormatException($"'{text}' is not a sequence number: expected 1 or more decimal digits (0-9) with no sign.");
    }

    /// <summary>Tries to parse a decimal sequence number.</summary>
    /// <param name="text">Decimal digits without sign.</param>
    /// <param name="result">The parsed sequence number, or zero when parsing fails.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> holds only decimal digits.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out SequenceNumber result)
    {
        result = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        int firstNonZero = -1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            if (firstNonZero < 0 && c != '0')
            {
                firstNonZero = i;
            }
        }

        if (firstNonZero < 0)
        {
            return true;
        }

        var digits = text.AsSpan(firstNonZero);
        if (digits.Length <= 18 || (digits.Length == 19 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            result = new SequenceNumber(long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture), null);
            return true;
        }

        result = new SequenceNumber(0, firstNonZero == 0 ? text : text[firstNonZero..]);
        return true;
    }

    /// <summary>Gets a value indicating whether the number fits in an <see cref="long"/>.</summary>
    public bool IsInt64 => _text is null;

    /// <summary>Gets the value as a 64-bit integer when it fits.</summary>
    /// <param name="value">The value, when it fits.</param>
    /// <returns><see langword="true"/> when the sequence number fits in a <see cref="long"/>.</returns>
    public bool TryToInt64(out long value)
    {
        value = _value;
        return _text is null;
    }

    /// <summary>Gets the value as an <see cref="long"/>.</summary>
    /// <exception cref="OverflowException">The number is larger than <see cref="long.MaxValue"/>.</exception>
    public long ToInt64() => _text is null ? _value : throw new OverflowException($"Sequence number {_text} does not fit in a 64-bit integer.");

    /// <inheritdoc />
    public int CompareTo(SequenceNumber other)
    {
        if (_text is null)
        {
            return other._text is null ? _value.CompareTo(other._value) : -1;
        }

        if (other._text is null)
        {
            return 1;
        }

        int byLength = _text.Length.CompareTo(other._text.Length);
        return byLength != 0 ? byLength : string.CompareOrdinal(_text, other._text);
    }

    /// <inheritdoc />
    public bool Equals(SequenceNumber other) => _value == other._value && string.Equals(_text, other._text, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SequenceNumber other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _text is null ? _value.GetHashCode() : StringComparer.Ordinal.GetHashCode(_text);

    /// <summary>Returns the canonical decimal text of the number.</summary>
    public override string ToString() => _text ?? _value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator ==(SequenceNumber left, SequenceNumber right) => left.Equals(right);

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator !=(SequenceNumber left, SequenceNumber right) => !left.Equals(right);

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator <(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) < 0;

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator >(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) > 0;

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator <=(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two sequence numbers.</summary>
    public static bool operator >=(SequenceNumber left, SequenceNumber right) => left.CompareTo(right) >= 0;
}
