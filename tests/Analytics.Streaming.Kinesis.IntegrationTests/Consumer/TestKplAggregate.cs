using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

/// <summary>Builds KPL aggregated records by hand (magic, proto2 message, MD5), independent of the package's encoder.</summary>
internal static class TestKplAggregate
{
    public static byte[] Encode(params (string PartitionKey, string? ExplicitHashKey, byte[] Data)[] records)
    {
        var partitionKeys = new List<string>();
        var hashKeys = new List<string>();
        using var message = new MemoryStream();
        foreach (var (pk, ehk, _) in records)
        {
            if (!partitionKeys.Contains(pk))
            {
                partitionKeys.Add(pk);
            }

            if (ehk is not null && !hashKeys.Contains(ehk))
            {
                hashKeys.Add(ehk);
            }
        }

        foreach (string pk in partitionKeys)
        {
            WriteBytes(message, 0x0A, Encoding.UTF8.GetBytes(pk));
        }

        foreach (string ehk in hashKeys)
        {
            WriteBytes(message, 0x12, Encoding.UTF8.GetBytes(ehk));
        }

        foreach (var (pk, ehk, data) in records)
        {
            using var record = new MemoryStream();
            record.WriteByte(0x08);
            WriteVarint(record, (ulong)partitionKeys.IndexOf(pk));
            if (ehk is not null)
            {
                record.WriteByte(0x10);
                WriteVarint(record, (ulong)hashKeys.IndexOf(ehk));
            }

            WriteBytes(record, 0x1A, data);
            WriteBytes(message, 0x1A, record.ToArray());
        }

        byte[] body = message.ToArray();
        return [0xF3, 0x89, 0x9A, 0xC2, .. body, .. MD5.HashData(body)];
    }

    private static void WriteBytes(Stream stream, byte tag, byte[] bytes)
    {
        stream.WriteByte(tag);
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
