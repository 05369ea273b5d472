using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace Analytics.Streaming.DynamoDB;

/// <summary>The attribute names and DynamoDB types of the Kinesis Client Library's lease items, and the mapping of <see cref="KinesisLease"/> to them.</summary>
internal static class LeaseAttributes
{
    public const string LeaseKey = "leaseKey";                                  // S, hash key
    public const string LeaseOwner = "leaseOwner";                              // S, absent when nobody holds the lease
    public const string LeaseCounter = "leaseCounter";                          // N
    public const string Checkpoint = "checkpoint";                              // S
    public const string CheckpointSubSequenceNumber = "checkpointSubSequenceNumber"; // N
    public const string OwnerSwitchesSinceCheckpoint = "ownerSwitchesSinceCheckpoint"; // N
    public const string ParentShardId = "parentShardId";                        // SS (the KCL's name, singular)
    public const string ChildShardIds = "childShardIds";                        // SS
    public const string StartingHashKey = "startingHashKey";                    // S
    public const string EndingHashKey = "endingHashKey";                        // S
    public const string PendingCheckpoint = "pendingCheckpoint";                // S
    public const string PendingCheckpointSubSequenceNumber = "pendingCheckpointSubSequenceNumber"; // N
    public const string PendingCheckpointState = "pendingCheckpointState";      // B
    public const string CheckpointOwner = "checkpointOwner";                    // S (KCL 3 graceful hand-off)

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static Dictionary<string, AttributeValue> Key(string leaseKey) => new(StringComparer.Ordinal) { [LeaseKey] = S(leaseKey) };

    public static Dictionary<string, AttributeValue> ToItem(KinesisLease lease)
    {
        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            [LeaseKey] = S(lease.LeaseKey),
            [LeaseCounter] = N(lease.LeaseCounter),
            [OwnerSwitchesSinceCheckpoint] = N(lease.OwnerSwitchesSinceCheckpoint),
            [Checkpoint] = S(lease.Checkpoint.SequenceNumber),
            [CheckpointSubSequenceNumber] = N(lease.Checkpoint.SubSequenceNumber),
        };
        if (lease.LeaseOwner is { } owner)
        {
            item[LeaseOwner] = S(owner);
        }

        if (lease.ParentShardIds.Count > 0)
        {
            item[ParentShardId] = new AttributeValue { SS = [.. lease.ParentShardIds] };
        }

        if (lease.ChildShardIds.Count > 0)
        {
            item[ChildShardIds] = new AttributeValue { SS = [.. lease.ChildShardIds] };
        }

        if (lease.StartingHashKey is { } start && lease.EndingHashKey is { } end)
        {
            item[StartingHashKey] = S(start);
            item[EndingHashKey] = S(end);
        }

        return item;
    }

    public static KinesisLease FromItem(Dictionary<string, AttributeValue> item)
    {
        string? pending = GetString(item, PendingCheckpoint);
        return new KinesisLease
        {
            LeaseKey = GetString(item, LeaseKey) ?? throw new InvalidDataException($"A lease item has no {LeaseKey}."),
            LeaseOwner = GetString(item, LeaseOwner),
            LeaseCounter = GetLong(item, LeaseCounter),
            Checkpoint = new LeaseCheckpoint(GetString(item, Checkpoint) ?? LeaseCheckpoint.TrimHorizonValue, GetLong(item, CheckpointSubSequenceNumber)),
            OwnerSwitchesSinceCheckpoint = GetLong(item, OwnerSwitchesSinceCheckpoint),
            ParentShardIds = GetSet(item, ParentShardId),
            ChildShardIds = GetSet(item, ChildShardIds),
            StartingHashKey = GetString(item, StartingHashKey),
            EndingHashKey = GetString(item, EndingHashKey),
            PendingCheckpoint = string.IsNullOrEmpty(pending) ? null : new LeaseCheckpoint(pending, GetLong(item, PendingCheckpointSubSequenceNumber)),
        };
    }

    private static string? GetString(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.S is { } s ? s : null;

    private static long GetLong(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? long.Parse(n, NumberStyles.Integer, CultureInfo.InvariantCulture) : 0;

    private static string[] GetSet(Dictionary<string, AttributeValue> item, string name)
    {
        if (!item.TryGetValue(name, out var value) || value.SS is not { Count: > 0 } set)
        {
            return [];
        }

        var sorted = set.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }
}
