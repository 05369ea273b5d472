using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.S3;

/// <summary>
/// The intent log of one epoch of one run of a writer: the keys of every object the sink began to upload for a
/// checkpoint that is not saved yet. Stored as <c>epoch-{n:D12}-from-{r:D12}-fence-{f:D12}-{run}.json</c>, where
/// <c>r</c> is the checkpoint the run restored from, <c>f</c> the fencing token its checkpoint was claimed with (0
/// without fencing) and <c>run</c> 16 random hex digits, with the content <c>{"writer":"…","epoch":n,"keys":["…"]}</c>.
/// Logs of earlier versions are still read: <c>epoch-{n:D12}-from-{r:D12}-{run}.json</c> (token 0) and
/// <c>epoch-{n:D12}.json</c> (no restore point: -1).
/// </summary>
internal static class IntentLog
{
    /// <summary>The longest escaped writer id; longer ids are cut and end with a hash of the whole id.</summary>
    public const int MaximumWriterLength = 128;

    private const string Prefix = "epoch-";
    private const string ClaimPrefix = "claim-fence-";
    private const string Extension = ".json";

    private const string From = "-from-";
    private const string Fence = "-fence-";
    private const int RunLength = 16;

    public static string FileName(long epoch, long restoredFrom, long fence, string run) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{epoch:D12}{From}{restoredFrom:D12}{Fence}{fence:D12}-{run}{Extension}");

    /// <summary>
    /// The name of a run's claim: <c>claim-fence-{f:D12}-from-{r:D12}-{run}.json</c>, written when a run with a fencing
    /// token restores (see <see cref="S3Sink{T}"/>'s remarks).
    /// </summary>
    public static string ClaimName(long fence, long restoredFrom, string run) =>
        string.Create(CultureInfo.InvariantCulture, $"{ClaimPrefix}{fence:D12}{From}{restoredFrom:D12}-{run}{Extension}");

    /// <summary>Reads a claim's file name: the run's fencing token and the checkpoint it restored from; false for anything else.</summary>
    public static bool TryParseClaim(ReadOnlySpan<char> name, out Claim claim)
    {
        claim = default;
        if (!name.StartsWith(ClaimPrefix, StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        if (!TrySplit(name[ClaimPrefix.Length..^Extension.Length], out var head, out var numbers, out _)
            || !TryParseNumber(head, out long fence) || !TryParseNumber(numbers, out long restoredFrom))
        {
            return false;
        }

        claim = new Claim(fence, restoredFrom);
        return true;
    }

    /// <summary>The content of a claim: <c>{"writer":"…","fence":f,"restoredFrom":r}</c>.</summary>
    public static byte[] FormatClaim(string writer, long fence, long restoredFrom)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("writer", ValidUtf16(writer));
            json.WriteNumber("fence", fence);
            json.WriteNumber("restoredFrom", restoredFrom);
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>A new run id: 16 random lowercase hex digits.</summary>
    public static string NewRun() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RunLength / 2));

    /// <summary>Reads the epoch from a log's file name; false for anything else (including names in sub-folders).</summary>
    public static bool TryParseEpoch(ReadOnlySpan<char> name, out long epoch) => TryParse(name, out epoch, out _, out _, out _);

    /// <summary>
    /// Reads a log's file name: its epoch, the checkpoint its run restored from (-1 for the oldest logs, without one),
    /// the fencing token of that run (0 for logs without one) and its run (empty for the oldest logs).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> name, out long epoch, out long restoredFrom, out long fence, out string run)
    {
        epoch = 0;
        restoredFrom = -1;
        fence = 0;
        run = string.Empty;
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = name[Prefix.Length..^Extension.Length];
        if (!rest.Contains(From, StringComparison.Ordinal))
        {
            return TryParseNumber(rest, out epoch);
        }

        if (!TrySplit(rest, out var head, out var numbers, out var runId) || !TryParseNumber(head, out epoch))
        {
            return false;
        }

        int fenceAt = numbers.IndexOf(Fence, StringComparison.Ordinal);
        if (fenceAt < 0 ? !TryParseNumber(numbers, out restoredFrom)
            : !TryParseNumber(numbers[..fenceAt], out restoredFrom) || !TryParseNumber(numbers[(fenceAt + Fence.Length)..], out fence))
        {
            return false;
        }

        run = runId.ToString();
        return true;
    }

    /// <summary>Splits the <c>{head}-from-{numbers}-{run}</c> part of a log's or a claim's name.</summary>
    private static bool TrySplit(ReadOnlySpan<char> rest, out ReadOnlySpan<char> head, out ReadOnlySpan<char> numbers, out ReadOnlySpan<char> run)
    {
        head = numbers = run = default;
        int fromAt = rest.IndexOf(From, StringComparison.Ordinal);
        if (fromAt < 0)
        {
            return false;
        }

        var tail = rest[(fromAt + From.Length)..];
        if (tail.Length < RunLength + 1 || tail[^(RunLength + 1)] != '-' || !IsRun(tail[^RunLength..]))
        {
            return false;
        }

        head = rest[..fromAt];
        numbers = tail[..^(RunLength + 1)];
        run = tail[^RunLength..];
        return true;
    }

    private static bool IsRun(ReadOnlySpan<char> run)
    {
        foreach (char c in run)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseNumber(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.Length < 12)
        {
            return false;
        }

        foreach (char c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static byte[] Format(string writer, long epoch, IReadOnlyList<string> keys)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("writer", ValidUtf16(writer));
            json.WriteNumber("epoch", epoch);
            json.WriteStartArray("keys");
            foreach (string key in keys)
            {
                json.WriteStringValue(key);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>Reads the keys of a log.</summary>
    /// <exception cref="InvalidDataException">The object is not an intent log.</exception>
    public static List<string> ParseKeys(byte[] content, string location)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var keys = new List<string>();
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("keys", out var array) && array.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in array.EnumerateArray())
                {
                    keys.Add(item.GetString() is { Length: > 0 } key ? key : throw new InvalidDataException($"The intent log {location} lists an empty or non-string key."));
                }

                return keys;
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The intent log {location} is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException($"The intent log {location} lists a key that is not a string.", ex);
        }

        throw new InvalidDataException($"The intent log {location} has no 'keys' array: it was not written by the S3 sink; move it out of the sink's log folder.");
    }

    /// <summary>
    /// Makes a writer id safe as one key segment: ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c> stay, every
    /// other character becomes <c>%XX</c> per UTF-8 byte (<c>.</c> and <c>..</c> alone too); ids longer than
    /// <see cref="MaximumWriterLength"/> once escaped are cut and end with <c>~</c> and a hash of the whole id.
    /// </summary>
    public static string EscapeWriter(string writer)
    {
        ArgumentException.ThrowIfNullOrEmpty(writer);
        var text = new StringBuilder(writer.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in writer.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '_' or '.'))
            {
                text.Append((char)rune.Value);
                continue;
            }

            int n = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++)
            {
                text.Append('%').Append(utf8[i].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        string escaped = text.ToString();
        if (escaped is "." or "..")
        {
            escaped = escaped.Replace(".", "%2E", StringComparison.Ordinal);
        }

        if (escaped.Length > MaximumWriterLength)
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ValidUtf16(writer))))[..32];
            escaped = string.Concat(escaped.AsSpan(0, MaximumWriterLength - 33), "~", hash);
        }

        return escaped;
    }

    /// <summary>Replaces lone surrogates with U+FFFD, so that the text can be written as JSON or UTF-8.</summary>
    public static string ValidUtf16(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogate(text[i]))
            {
                var fixedText = new StringBuilder(text.Length);
                foreach (var rune in text.EnumerateRunes())
                {
                    fixedText.Append(rune.ToString());
                }

                return fixedText.ToString();
            }
        }

        return text;
    }
}

/// <summary>
/// A run of a writer that restored from <paramref name="RestoredFrom"/> under the fencing token
/// <paramref name="Fence"/> (greater than 0): from its claim on, the checkpoint store refused every save with a lower
/// token, and no checkpoint after <paramref name="RestoredFrom"/> existed before it.
/// </summary>
/// <param name="Fence">The run's fencing token.</param>
/// <param name="RestoredFrom">The checkpoint the run restored from.</param>
internal readonly record struct Claim(long Fence, long RestoredFrom)
{
    /// <summary>
    /// Whether this claim proves that a log's epoch was never committed: the log's run had a lower token (not 0: a run
    /// without fencing cannot be ordered) and its epoch comes after this claim's restore point. Every checkpoint saved
    /// under that lower token is at or before the restore point: those saved before the claim were, since the run
    /// restored from the newest one, and after the claim the store refused them.
    /// </summary>
    /// <param name="epoch">The log's epoch.</param>
    /// <param name="fence">The fencing token of the log's run.</param>
    /// <returns><see langword="true"/> when the epoch was never committed.</returns>
    public bool ProvesUncommitted(long epoch, long fence) => fence > 0 && fence < Fence && epoch > RestoredFrom;
}
