using System.Text;
using Analytics.Streaming.OpenSearch.Tests.Server;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>The test server's NDJSON parser refuses what a real cluster refuses, so the sink's bodies are checked strictly.</summary>
public sealed class BulkParserTests
{
    [Fact]
    public void Parse_ValidBody_ReadsEveryActionAndSource()
    {
        string body = """
            {"index":{"_index":"a","_id":"1","version":3,"version_type":"external_gte"}}
            {"x":1}
            {"create":{"_index":"a","_id":"2"}}
            {"y":"z"}
            {"delete":{"_index":"a","_id":"3"}}
            {"update":{"_index":"a","_id":"4","retry_on_conflict":2}}
            {"doc":{"x":2}}

            """.ReplaceLineEndings("\n");
        var actions = BulkParser.Parse(Encoding.UTF8.GetBytes(body), null);
        Assert.Equal(["index", "create", "delete", "update"], actions.Select(a => a.Action));
        Assert.Equal(3, actions[0].Version);
        Assert.Equal("external_gte", actions[0].VersionType);
        Assert.Null(actions[2].Source);
        Assert.Equal("""{"y":"z"}""", Encoding.UTF8.GetString(actions[1].Source!));
    }

    [Theory]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}", "terminated by a newline")]
    [InlineData("{\"upsert\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n", "expected field [create]")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"_type\":\"doc\"}}\n{\"x\":1}\n", "unknown parameter [_type]")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n", "source is missing")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n[1,2]\n", "is not an object")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1,\"x\":2}\n", "Duplicate field 'x'")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}{\"x\":1}\n", "not valid JSON")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1,}\n", "not valid JSON")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1 /* c */}\n", "not valid JSON")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\r\n{\"x\":1}\r\n", "carriage return")]
    [InlineData("\n{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n", "not valid JSON")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"},\"create\":{}}\n{\"x\":1}\n", "expected one action")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"version\":2}}\n{\"x\":1}\n", "internal versioning can not be used")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"version\":-2,\"version_type\":\"external\"}}\n{\"x\":1}\n", "non-negative")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"version\":\"2\",\"version_type\":\"external\"}}\n{\"x\":1}\n", "wrong type")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"version_type\":\"force\",\"version\":1}}\n{\"x\":1}\n", "No version type match")]
    [InlineData("{\"create\":{\"_index\":\"a\",\"_id\":\"1\",\"version\":1,\"version_type\":\"external\"}}\n{\"x\":1}\n", "only support internal versioning")]
    [InlineData("{\"index\":{\"_id\":\"1\"}}\n{\"x\":1}\n", "index is missing")]
    [InlineData("{\"delete\":{\"_index\":\"a\"}}\n", "id is missing")]
    [InlineData("{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"retry_on_conflict\":1}}\n{\"x\":1}\n", "unknown parameter [retry_on_conflict]")]
    [InlineData("", "no requests added")]
    public void Parse_InvalidBody_IsRefusedWithTheReason(string body, string expected)
    {
        var exception = Assert.Throws<BulkParseException>(() => BulkParser.Parse(Encoding.UTF8.GetBytes(body), null));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_IdOver512Bytes_IsRefused()
    {
        string body = $"{{\"index\":{{\"_index\":\"a\",\"_id\":\"{new string('x', 513)}\"}}}}\n{{\"x\":1}}\n";
        Assert.Throws<BulkParseException>(() => BulkParser.Parse(Encoding.UTF8.GetBytes(body), null));
    }
}
