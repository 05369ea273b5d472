using System.Text;
using Analytics.Streaming.OpenSearch.Internal;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>The sink's forward-only reader of _bulk answers.</summary>
public sealed class BulkResponseTests
{
    [Fact]
    public void Read_DocumentedAnswer_StatusesAndErrorsInOrder()
    {
        string body = """
            { "took": 9, "errors": true,
              "items": [
                { "index":  { "_index": "orders-2024.05.01", "_id": "a", "_version": 1, "result": "created",
                              "_shards": {"total":2,"successful":1,"failed":0}, "_seq_no": 2, "_primary_term": 1, "status": 201 } },
                { "update": { "_index": "orders", "_id": "nonexistent1", "status": 404,
                              "error": { "type": "document_missing_exception", "reason": "[nonexistent1]: document missing",
                                         "index": "orders", "shard": "0", "index_uuid": "UZdz" } } },
                { "index": { "_index": "o", "_id": "b", "error": { "type": "mapper_parsing_exception", "reason": "failed to parse",
                             "caused_by": { "type": "illegal_argument_exception", "reason": "For input string: \"x\"" } }, "status": 400 } },
                { "create": { "status": 409, "error": "old-style text" } } ] }
            """;
        var items = new List<BulkItem>();
        Assert.True(BulkResponse.Read(Encoding.UTF8.GetBytes(body), 4, items));
        Assert.Equal(new BulkItem(201, null, null), items[0]);
        Assert.Equal(new BulkItem(404, "document_missing_exception", "[nonexistent1]: document missing"), items[1]);
        Assert.Equal(new BulkItem(400, "mapper_parsing_exception", "failed to parse (caused by illegal_argument_exception: For input string: \"x\")"), items[2]);
        Assert.Equal(new BulkItem(409, "error", "old-style text"), items[3]);
    }

    [Theory]
    [InlineData("""{"took":1,"errors":false,"items":[{"index":{"status":201}}]}""", 2)]
    [InlineData("""{"took":1,"errors":false}""", 0)]
    [InlineData("""{"took":1,"errors":false,"items":[{"index":{"_id":"a"}}]}""", 1)]
    [InlineData("""{"items":[{"index":{"status":201}}""", 1)]
    [InlineData("""[1]""", 1)]
    public void Read_AnswerThatDoesNotMatchTheRequest_IsRefused(string body, int expected)
        => Assert.Throws<InvalidDataException>(() => BulkResponse.Read(Encoding.UTF8.GetBytes(body), expected, []));
}
