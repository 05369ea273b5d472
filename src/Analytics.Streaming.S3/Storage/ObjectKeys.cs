using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Analytics.Streaming.S3;

/// <summary>Rules for object keys shared by every store, so a layout that works on a local folder works on S3.</summary>
internal static class ObjectKeys
{
    /// <summary>The longest key S3 accepts, in UTF-8 bytes.</summary>
    public const int MaximumKeyBytes = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Validate(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!TryValidate(key, out string? reason))
        {
            throw new ArgumentException(reason, nameof(key));
        }
    }

    public static bool TryValidate(string key, [NotNullWhen(false)] out string? reason)
    {
        if (string.IsNullOrEmpty(key))
        {
            reason = "The object key is empty.";
            return false;
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            reason = $"Object key '{Shorten(key)}' is not valid UTF-16 (a lone surrogate), so it has no UTF-8 form.";
            return false;
        }

        if (bytes > MaximumKeyBytes)
        {
            reason = $"Object key '{Shorten(key)}' is {bytes} UTF-8 bytes, longer than {MaximumKeyBytes}, the S3 limit: shorten the prefix or the partition values.";
            return false;
        }

        if (key[0] == '/' || key.Contains("//", StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal))
        {
            reason = $"Object key '{Shorten(key)}' must not start with '/', contain '//' or contain '\\'.";
            return false;
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment is "." or "..")
            {
                reason = $"Object key '{Shorten(key)}' must not contain '.' or '..' segments.";
                return false;
            }
        }

        foreach (char c in key)
        {
            if (char.IsControl(c))
            {
                reason = $"Object key '{Shorten(key)}' contains a control character (U+{(int)c:X4}).";
                return false;
            }
        }

        reason = null;
        return true;
    }

    /// <summary>The start of a long key for messages, never cutting a surrogate pair.</summary>
    public static string Shorten(string key, int length = 120)
    {
        if (key.Length <= length)
        {
            return key;
        }

        if (char.IsHighSurrogate(key[length - 1]))
        {
            length--;
        }

        return string.Concat(key.AsSpan(0, length), "...");
    }
}
