using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Analytics.Streaming.S3.IntegrationTests.Layout;

public sealed class KeyLayoutPropertyTests
{
    // Hive's unescapePathName: every %XX (two hex digits) becomes that character.
    private static string HiveUnescape(string path)
    {
        var text = new StringBuilder();
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length && int.TryParse(path.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
            {
                text.Append((char)code);
                i += 2;
            }
            else
            {
                text.Append(path[i]);
            }
        }

        return text.ToString();
    }

    [Fact]
    public void GetPartitionPath_AnyFieldValue_OneFolderThatHiveUnescapesToTheValue()
    {
        var layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time).PartitionBy("page", c => c.Page);
        var arrival = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Prop.ForAll<NonNull<string>, DateTime>((value, time) =>
        {
            var utc = DateTime.SpecifyKind(time, DateTimeKind.Utc);
            string path = layout.GetPartitionPath(new Click(new DateTimeOffset(utc), value.Get, 1, null, null), arrival);
            string[] folders = path.Split('/');
            string page = folders[0]["page=".Length..];
            string expected = value.Get.Length == 0 ? KeyLayout<Click>.DefaultPartitionValue : value.Get;
            return folders.Length == 6
                && folders[0].StartsWith("page=", StringComparison.Ordinal)
                && page.IndexOf('=', StringComparison.Ordinal) < 0
                && HiveUnescape(page) == expected
                && folders[1] == $"year={utc.Year:D4}" && folders[4] == $"hour={utc.Hour:D2}"
                && folders[5].Length == 0;
        }).QuickCheckThrowOnFailure();
    }
}
