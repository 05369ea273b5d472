using System.Text;

namespace Analytics.Streaming.S3;

/// <summary>Rules for object keys shared by every store, so a layout that works on a local folder works on S3.</summary>
internal static class ObjectKeys
{
    /// <summary>The longest key S3 accepts, in UTF-8 bytes.</summary>
    public const int MaximumKeyBytes = 1024;

    public static void Validate(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (Encoding.UTF8.GetByteCount(key) > MaximumKeyBytes)
        {
            throw new ArgumentException($"Object key '{key[..Math.Min(key.Length, 80)]}...' is longer than {MaximumKeyBytes} UTF-8 bytes, the S3 limit: shorten the prefix or the partition values.", nameof(key));
        }

        if (key[0] == '/' || key.Contains("//", StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{key}' must not start with '/', contain '//' or contain '\\'.", nameof(key));
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw new ArgumentException($"Object key '{key}' must not contain '.' or '..' segments.", nameof(key));
            }
        }

        foreach (char c in key)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"Object key '{key}' contains a control character (U+{(int)c:X4}).", nameof(key));
            }
        }
    }
}
