using System.Text;
using Amazon.DynamoDBv2.Model;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// Measures an item as DynamoDB counts it against its 400 KB limit: attribute names plus values, strings in UTF-8,
/// numbers at one byte per two significant digits plus one, binary by length, lists and maps with 3 bytes of overhead
/// and 1 byte per element.
/// </summary>
internal static class ItemSize
{
    /// <summary>DynamoDB's largest item: 400 KB, that is 409,600 bytes.</summary>
    public const int MaxItemBytes = 400 * 1024;

    public static int Of(Dictionary<string, AttributeValue> item)
    {
        long size = 0;
        foreach (var pair in item)
        {
            size += Encoding.UTF8.GetByteCount(pair.Key) + Of(pair.Value);
        }

        return (int)Math.Min(size, int.MaxValue);
    }

    public static long Of(AttributeValue value)
    {
        if (value.S is not null)
        {
            return Encoding.UTF8.GetByteCount(value.S);
        }

        if (value.N is not null)
        {
            return NumberSize(value.N);
        }

        if (value.B is not null)
        {
            return value.B.Length;
        }

        if (value.BOOL is not null || value.NULL is not null)
        {
            return 1;
        }

        long size = 0;
        if (value.SS is not null)
        {
            foreach (string s in value.SS)
            {
                size += Encoding.UTF8.GetByteCount(s);
            }
        }
        else if (value.NS is not null)
        {
            foreach (string n in value.NS)
            {
                size += NumberSize(n);
            }
        }
        else if (value.BS is not null)
        {
            foreach (var b in value.BS)
            {
                size += b.Length;
            }
        }
        else if (value.L is not null)
        {
            size = 3;
            foreach (var element in value.L)
            {
                size += 1 + Of(element);
            }
        }
        else if (value.M is not null)
        {
            size = 3;
            foreach (var pair in value.M)
            {
                size += 1 + Encoding.UTF8.GetByteCount(pair.Key) + Of(pair.Value);
            }
        }

        return size;
    }

    private static int NumberSize(string number)
    {
        // Significant digits: the digits of the mantissa without leading and trailing zeros.
        int end = number.IndexOfAny(['e', 'E']);
        var mantissa = (end < 0 ? number : number[..end]).AsSpan();
        int first = -1, last = -1;
        for (int i = 0; i < mantissa.Length; i++)
        {
            if (mantissa[i] is >= '1' and <= '9')
            {
                first = first < 0 ? i : first;
                last = i;
            }
        }

        if (first < 0)
        {
            return 1;
        }

        int digits = 0;
        for (int i = first; i <= last; i++)
        {
            digits += char.IsAsciiDigit(mantissa[i]) ? 1 : 0;
        }

        return ((digits + 1) / 2) + 1;
    }
}
