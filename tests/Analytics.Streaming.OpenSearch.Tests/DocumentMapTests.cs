using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>Document maps: field types, dates, compiled property maps, raw JSON, values JSON cannot carry.</summary>
public sealed class DocumentMapTests
{
    public sealed record Click(string Page, Guid Session, int Status, long UserId, double? Revenue, decimal Price, bool Bot, DateTime Time, DateTimeOffset? Seen);

    [Fact]
    public void Date_AnyInstant_IsIsoUtcWithMilliseconds()
    {
        var random = new Random(11);
        var map = OpenSearchDocumentMap.For<DateTimeOffset>().Date("t", static t => t).Build();
        var instants = new List<DateTimeOffset> { DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch, new(2026, 1, 31, 23, 59, 59, 999, TimeSpan.FromHours(-5)) };
        instants.AddRange(Enumerable.Range(0, 500).Select(_ => new DateTimeOffset(random.NextInt64(DateTimeOffset.MinValue.Ticks, DateTimeOffset.MaxValue.Ticks), TimeSpan.Zero)));
        foreach (var instant in instants)
        {
            using var json = JsonDocument.Parse(map.ToJson(instant));
            Assert.Equal(instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), json.RootElement.GetProperty("t").GetString());
        }
    }

    [Fact]
    public void FromProperties_SnakeCaseNamesAndTypes()
    {
        var map = OpenSearchDocumentMap.FromProperties<Click>();
        Assert.Equal(
            ["page:Keyword", "session:Keyword", "status:Long", "user_id:Long", "revenue:Double", "price:Double", "bot:Boolean", "time:Date", "seen:Date"],
            map.Fields.Select(f => $"{f.Name}:{f.Type}"));
        var click = new Click("/home", Guid.Parse("8d3f7c1e-2a4b-4c5d-9e6f-0a1b2c3d4e5f"), 200, 42, null, 9.99m, false, new DateTime(2026, 1, 31, 10, 0, 0, DateTimeKind.Utc), null);
        Assert.Equal(
            """{"page":"/home","session":"8d3f7c1e-2a4b-4c5d-9e6f-0a1b2c3d4e5f","status":200,"user_id":42,"price":9.99,"bot":false,"time":"2026-01-31T10:00:00.000Z"}""",
            Encoding.UTF8.GetString(map.ToJson(click)));
    }

    [Fact]
    public void Json_MultiLinePayload_IsWrittenOnOneLine_InvalidJsonIsRefused()
    {
        var map = OpenSearchDocumentMap.For<string>().Json("event", static s => Encoding.UTF8.GetBytes(s)).Build();
        Assert.Equal("""{"event":{"a":1,"b":[1,2]}}""", Encoding.UTF8.GetString(map.ToJson("{\n  \"a\": 1,\r\n  \"b\": [1, 2]\n}")));
        Assert.Equal("""{"event":{"a":1}}""", Encoding.UTF8.GetString(map.ToJson("""{"a":1}""")));
        Assert.Throws<OpenSearchValueException>(() => map.ToJson("{\"a\":"));
        Assert.Throws<OpenSearchValueException>(() => map.ToJson("{\"a\":1} {\"b\":2}"));
    }

    [Fact]
    public void Builder_RefusesMetadataNamesAndDuplicates()
    {
        Assert.Throws<ArgumentException>(() => OpenSearchDocumentMap.For<int>().Long("_id", static i => i));
        Assert.Throws<ArgumentException>(() => OpenSearchDocumentMap.For<int>().Long("a", static i => i).Long("a", static i => i));
        Assert.Throws<ArgumentException>(() => OpenSearchDocumentMap.For<int>().Build());
    }

    [Fact]
    public void Write_AccessorThatThrowsOrInfinity_IsAValueException()
    {
        var map = OpenSearchDocumentMap.For<double>().Double("v", static v => v).Keyword("k", static v => v > 5 ? throw new InvalidOperationException("boom") : "x").Build();
        Assert.Contains("'v'", Assert.Throws<OpenSearchValueException>(() => map.ToJson(double.PositiveInfinity)).Message, StringComparison.Ordinal);
        Assert.Contains("boom", Assert.Throws<OpenSearchValueException>(() => map.ToJson(6)).Message, StringComparison.Ordinal);
    }
}
