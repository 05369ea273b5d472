namespace Analytics.Streaming.Kinesis;

/// <summary>Constants of the KPL aggregated record format.</summary>
/// <remarks>
/// Layout: 4 magic bytes <c>F3 89 9A C2</c>, a protobuf <c>AggregatedRecord</c> (proto2), and the 16-byte MD5 of the
/// protobuf bytes.
/// </remarks>
public static class KplFormat
{
    /// <summary>The size of the magic prefix.</summary>
    public const int MagicSize = 4;

    /// <summary>The size of the MD5 checksum suffix.</summary>
    public const int ChecksumSize = 16;

    /// <summary>The bytes the format adds around the protobuf message (magic and checksum).</summary>
    public const int Overhead = MagicSize + ChecksumSize;

    /// <summary>The outer partition key the KPL gives aggregates (routing is by the explicit hash key).</summary>
    public const string AggregatePartitionKey = "a";

    /// <summary>Gets the magic prefix, <c>F3 89 9A C2</c>.</summary>
    public static ReadOnlySpan<byte> Magic => [0xF3, 0x89, 0x9A, 0xC2];

    /// <summary>Returns whether data starts like an aggregate: the magic prefix and room for a checksum.</summary>
    /// <param name="data">The outer record's data.</param>
    /// <returns><see langword="true"/> when the data should be deaggregated (its checksum is not verified here).</returns>
    public static bool HasAggregateMagic(ReadOnlySpan<byte> data) => data.Length >= Overhead && data.StartsWith(Magic);
}
