using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Kinesis;

/// <summary>The 128-bit hash keys that route records to shards.</summary>
/// <remarks>All members are thread-safe and allocation-free for partition keys up to 256 characters.</remarks>
public static class KinesisHashKey
{
    /// <summary>Returns the hash key of a partition key: MD5 of its UTF-8 bytes read as an unsigned big-endian integer.</summary>
    /// <param name="partitionKey">The partition key.</param>
    /// <returns>The hash key the service routes the record by.</returns>
    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "Kinesis routes records by MD5; not used for security.")]
    public static UInt128 FromPartitionKey(string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        int max = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int length = Encoding.UTF8.GetBytes(partitionKey, utf8);
            Span<byte> digest = stackalloc byte[16];
            MD5.HashData(utf8[..length], digest);
            return FromBigEndian(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Returns the hash key of a record: its explicit hash key when set, otherwise its partition key's MD5.</summary>
    /// <param name="partitionKey">The partition key.</param>
    /// <param name="explicitHashKey">The explicit hash key (decimal), or <see langword="null"/>.</param>
    /// <returns>The hash key.</returns>
    /// <exception cref="FormatException"><paramref name="explicitHashKey"/> is not a decimal number below 2^128.</exception>
    public static UInt128 Of(string partitionKey, string? explicitHashKey) =>
        explicitHashKey is null ? FromPartitionKey(partitionKey) : Parse(explicitHashKey);

    /// <summary>Parses a decimal hash key such as an <c>ExplicitHashKey</c> or a shard's <c>StartingHashKey</c>.</summary>
    /// <param name="text">The decimal text.</param>
    /// <returns>The hash key.</returns>
    /// <exception cref="FormatException">The text is not a decimal number from 0 to 2^128-1.</exception>
    public static UInt128 Parse(string text) =>
        TryParse(text, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a hash key: expected a decimal number from 0 to 2^128-1 (340282366920938463463374607431768211455), digits only.");

    /// <summary>Tries to parse a decimal hash key.</summary>
    /// <param name="text">The decimal text.</param>
    /// <param name="value">The hash key, or zero on failure.</param>
    /// <returns><see langword="true"/> when the text is a decimal number from 0 to 2^128-1.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out UInt128 value) =>
        UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>Formats a hash key as the decimal text the service uses.</summary>
    /// <param name="hashKey">The hash key.</param>
    /// <returns>The decimal text.</returns>
    public static string Format(UInt128 hashKey) => hashKey.ToString(CultureInfo.InvariantCulture);

    internal static UInt128 FromBigEndian(ReadOnlySpan<byte> digest) =>
        new(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
}
