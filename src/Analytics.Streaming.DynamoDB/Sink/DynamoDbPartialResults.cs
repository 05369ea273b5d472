using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// Reads window results written with the default layout (<see cref="DynamoDbItemMap.ForWindowResults{TKey, TValue}"/>)
/// and merges the partial results of one key and window that several partitions (shards) wrote: merge on read.
/// </summary>
/// <remarks>
/// When each shard is aggregated by its own pipeline (<see cref="StreamPipelineOptions.Partition"/> set to the shard
/// id, as workers sharing a stream through leases do), a key seen on several shards has one partial result per shard
/// and window, each its own item (sort key <c>{start}/{end}#{shard}</c>) with its own version. Replays overwrite a
/// partial with the same or a newer value and never add a second copy, so summing the partials of a window (or merging
/// their sketches) counts every record exactly once, across shard splits and merges too: each record belongs to one
/// shard only.
/// </remarks>
public static class DynamoDbPartialResults
{
    /// <summary>
    /// Reads the results of one key whose windows start in [<paramref name="from"/>, <paramref name="to"/>), grouped
    /// by window: one group per window, holding the whole result or the partial results of every shard.
    /// </summary>
    /// <typeparam name="TKey">The key type (formatted as the sink formats it).</typeparam>
    /// <param name="client">The DynamoDB client.</param>
    /// <param name="tableName">The table the sink writes.</param>
    /// <param name="pipeline">The pipeline name (the first part of the partition key).</param>
    /// <param name="key">The result key.</param>
    /// <param name="from">The earliest window start, inclusive.</param>
    /// <param name="to">The latest window start, exclusive.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The groups in window order. Reads are strongly consistent.</returns>
    public static async Task<IReadOnlyList<PartialResultGroup>> QueryAsync<TKey>(
        IAmazonDynamoDB client,
        string tableName,
        string pipeline,
        TKey key,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        ArgumentException.ThrowIfNullOrEmpty(pipeline);
        var groups = new List<PartialResultGroup>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await client.QueryAsync(
                new QueryRequest
                {
                    TableName = tableName,
                    ConsistentRead = true,
                    KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :from AND :to",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = "pk", ["#sk"] = "sk" },
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                    {
                        [":pk"] = new(DynamoDbItemMap.ResultPartitionKey(pipeline, key)),
                        [":from"] = new(DynamoDbItemMap.Iso(from)),
                        [":to"] = new(DynamoDbItemMap.Iso(to)),
                    },
                    ExclusiveStartKey = start,
                },
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                string sortKey = item["sk"].S;
                int hash = sortKey.IndexOf('#', StringComparison.Ordinal);
                string window = hash < 0 ? sortKey : sortKey[..hash];
                if (groups.Count == 0 || groups[^1].Window != window)
                {
                    groups.Add(new PartialResultGroup(window));
                }

                groups[^1].Add(item);
            }

            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return groups;
    }
}

/// <summary>The items of one key and window: the whole result, or one partial result per shard, with merge helpers.</summary>
public sealed class PartialResultGroup
{
    private readonly List<Dictionary<string, AttributeValue>> _items = [];

    internal PartialResultGroup(string window) => Window = window;

    /// <summary>Gets the window as the sort key shows it: <c>{start}/{end}</c> in ISO-8601.</summary>
    public string Window { get; }

    /// <summary>Gets the items: one per partition that wrote a partial result (or one whole result).</summary>
    public IReadOnlyList<Dictionary<string, AttributeValue>> Items => _items;

    /// <summary>Gets the partitions of the partial results (<c>partition</c> attribute); empty for a whole result.</summary>
    public IEnumerable<string> Partitions => _items.Where(i => i.ContainsKey("partition")).Select(i => i["partition"].S);

    /// <summary>Sums a whole-number attribute over the items (counts, sums); items without it add nothing.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The sum.</returns>
    public long Sum(string attribute) => Numbers(attribute).Aggregate(0L, (total, n) => checked(total + long.Parse(n, NumberStyles.Integer, CultureInfo.InvariantCulture)));

    /// <summary>Sums a decimal attribute over the items.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The sum.</returns>
    public decimal SumDecimal(string attribute) => Numbers(attribute).Sum(n => decimal.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>The smallest value of a number attribute over the items; <see langword="null"/> when none has it.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The minimum.</returns>
    public double? Min(string attribute) => Extreme(attribute, smallest: true);

    /// <summary>The largest value of a number attribute over the items; <see langword="null"/> when none has it.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The maximum.</returns>
    public double? Max(string attribute) => Extreme(attribute, smallest: false);

    /// <summary>Merges the HyperLogLog sketches of a binary attribute (written with <c>Sketch(...)</c>): the distinct count over every partition.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The merged sketch (empty when no item has the attribute).</returns>
    public HyperLogLogSketch MergeHyperLogLog(string attribute)
    {
        HyperLogLogSketch? merged = null;
        foreach (var bytes in Binaries(attribute))
        {
            var sketch = HyperLogLogSketch.Deserialize(bytes);
            if (merged is null)
            {
                merged = sketch;
            }
            else
            {
                merged.Merge(sketch);
            }
        }

        return merged ?? new HyperLogLogSketch();
    }

    /// <summary>Merges the quantile sketches of a binary attribute.</summary>
    /// <param name="attribute">The attribute name.</param>
    /// <returns>The merged sketch (empty when no item has the attribute).</returns>
    public QuantileSketch MergeQuantiles(string attribute)
    {
        QuantileSketch? merged = null;
        foreach (var bytes in Binaries(attribute))
        {
            var sketch = QuantileSketch.Deserialize(bytes);
            if (merged is null)
            {
                merged = sketch;
            }
            else
            {
                merged.Merge(sketch);
            }
        }

        return merged ?? new QuantileSketch();
    }

    internal void Add(Dictionary<string, AttributeValue> item) => _items.Add(item);

    private static double Parse(string n) => double.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture);

    private double? Extreme(string attribute, bool smallest)
    {
        double? best = null;
        foreach (string n in Numbers(attribute))
        {
            double value = Parse(n);
            if (best is null || (smallest ? value < best : value > best))
            {
                best = value;
            }
        }

        return best;
    }

    private IEnumerable<string> Numbers(string attribute)
    {
        foreach (var item in _items)
        {
            if (item.TryGetValue(attribute, out var value) && value.N is { } n)
            {
                yield return n;
            }
        }
    }

    private IEnumerable<byte[]> Binaries(string attribute)
    {
        foreach (var item in _items)
        {
            if (item.TryGetValue(attribute, out var value) && value.B is { } stream)
            {
                yield return stream.ToArray();
            }
        }
    }
}
