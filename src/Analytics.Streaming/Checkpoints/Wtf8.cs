using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Analytics.Streaming;

/// <summary>
/// Strings as UTF-8 bytes, extended (as WTF-8) to the lone surrogates a .NET string may hold (a JSON <c>"\ud83d"</c>, a
/// pair cut in two by truncation): each is written as the three bytes UTF-8 gives its code point, <c>ED A0..BF xx</c>.
/// Text without lone surrogates is plain UTF-8, so everything written before reads the same, and nothing is lost.
/// </summary>
internal static class Wtf8
{
    /// <summary>Gets the number of bytes <see cref="Write"/> writes: what UTF-8 with replacement gives, since U+FFFD and a surrogate both take three.</summary>
    public static int GetByteCount(ReadOnlySpan<char> value) => Encoding.UTF8.GetByteCount(value);

    /// <summary>Writes the string; <paramref name="destination"/> holds at least <see cref="GetByteCount"/> bytes.</summary>
    /// <returns>The number of bytes written.</returns>
    public static int Write(ReadOnlySpan<char> value, Span<byte> destination)
    {
        int total = 0;
        while (true)
        {
            var status = Utf8.FromUtf16(value, destination[total..], out int read, out int written, replaceInvalidSequences: false);
            total += written;
            if (status == OperationStatus.Done)
            {
                return total;
            }

            if (status != OperationStatus.InvalidData)
            {
                throw new ArgumentException("The destination is too small for the string.", nameof(destination));
            }

            char surrogate = value[read];
            destination[total++] = (byte)(0xE0 | (surrogate >> 12));
            destination[total++] = (byte)(0x80 | ((surrogate >> 6) & 0x3F));
            destination[total++] = (byte)(0x80 | (surrogate & 0x3F));
            value = value[(read + 1)..];
        }
    }

    /// <summary>Reads a string written by <see cref="Write"/> (or any UTF-8).</summary>
    /// <exception cref="FormatException">The bytes are neither UTF-8 nor UTF-8 with lone surrogates.</exception>
    public static string GetString(ReadOnlySpan<byte> source)
    {
        if (Utf8.IsValid(source))
        {
            return Encoding.UTF8.GetString(source);
        }

        char[] chars = ArrayPool<char>.Shared.Rent(source.Length);
        try
        {
            int count = 0;
            while (true)
            {
                var status = Utf8.ToUtf16(source, chars.AsSpan(count), out int read, out int written, replaceInvalidSequences: false);
                count += written;
                if (status == OperationStatus.Done)
                {
                    return new string(chars, 0, count);
                }

                source = source[read..];
                if (source.Length < 3 || source[0] != 0xED || (source[1] & 0xE0) != 0xA0 || (source[2] & 0xC0) != 0x80)
                {
                    throw new FormatException($"The bytes are not UTF-8: invalid sequence at byte {read}.");
                }

                chars[count++] = (char)(0xD000 | ((source[1] & 0x3F) << 6) | (source[2] & 0x3F));
                source = source[3..];
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
