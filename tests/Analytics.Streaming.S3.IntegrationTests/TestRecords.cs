using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>A clickstream record for the sink tests.</summary>
public sealed record Click(DateTimeOffset Time, string? Page, long UserId, decimal? Price, string? Referrer)
{
    public string Id => $"{UserId}-{Time.ToUnixTimeMilliseconds()}";
}

/// <summary>A sensor reading, for values JSON cannot hold (NaN).</summary>
public sealed record Reading(string Sensor, DateTimeOffset Time, double Value);

[JsonSerializable(typeof(Click))]
[JsonSerializable(typeof(Reading))]
public sealed partial class TestJson : JsonSerializerContext;

public static class Clicks
{
    public static readonly DateTimeOffset Start = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    public static readonly ParquetRecordMap<Click> Map = ParquetRecordMap.For<Click>()
        .Timestamp("ts", c => c.Time)
        .String("page", c => c.Page, nullable: false)
        .Int64("user_id", c => c.UserId)
        .Decimal("price", 18, 2, c => c.Price)
        .String("referrer", c => c.Referrer)
        .Build();

    private static readonly string[] Pages = ["home", "cart", "search", "product/42", "checkout"];

    /// <summary>Deterministic clicks spread over <paramref name="hours"/> hours from <see cref="Start"/>.</summary>
    public static Click[] Make(int count, int hours = 1, int seed = 7)
    {
        var random = new Random(seed);
        var clicks = new Click[count];
        long span = TimeSpan.FromHours(hours).Ticks;
        for (int i = 0; i < count; i++)
        {
            var time = Start.AddTicks(span / count * i);
            clicks[i] = new Click(
                time,
                Pages[random.Next(Pages.Length)],
                i,
                i % 5 == 0 ? null : Math.Round((decimal)random.NextDouble() * 1000, 2),
                i % 3 == 0 ? null : "ref-" + random.Next(100));
        }

        return clicks;
    }
}

/// <summary>A store that fails its first <c>failures</c> writes with a dropped connection, then behaves like the store it wraps.</summary>
public sealed class FlakyStore(IObjectStore inner, int failures) : ForwardingStore(inner)
{
    private int _remaining = failures;

    protected override void BeforeCall(StoreCall call, string key)
    {
        if (call is StoreCall.Put or StoreCall.StartMultipartUpload && Interlocked.Decrement(ref _remaining) >= 0)
        {
            throw new IOException("Simulated dropped connection.");
        }
    }
}

/// <summary>The calls of an <see cref="IObjectStore"/>, as <see cref="ForwardingStore.BeforeCall"/> names them.</summary>
public enum StoreCall
{
    Put,
    StartMultipartUpload,
    Get,
    List,
    Delete,
    AbortMultipartUploads,
}

/// <summary>
/// An <see cref="IObjectStore"/> that passes every call to another after <see cref="BeforeCall"/>, where tests inject
/// failures; tests override what else they change.
/// </summary>
public abstract class ForwardingStore(IObjectStore inner) : IObjectStore
{
    public IObjectStore Inner => inner;

    public virtual string GetLocation(string key) => inner.GetLocation(key);

    public virtual bool IsTransient(Exception exception) => inner.IsTransient(exception);

    public virtual bool IsValidKey(string key, [NotNullWhen(false)] out string? reason) => inner.IsValidKey(key, out reason);

    public virtual Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.Put, key);
        return inner.PutObjectAsync(key, content, contentType, cancellationToken);
    }

    public virtual Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.StartMultipartUpload, key);
        return inner.StartMultipartUploadAsync(key, contentType, cancellationToken);
    }

    public virtual Task<byte[]?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.Get, key);
        return inner.GetObjectAsync(key, cancellationToken);
    }

    public virtual Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.List, prefix);
        return inner.ListKeysAsync(prefix, cancellationToken);
    }

    public virtual Task<IReadOnlyList<StoredObject>> ListObjectsAsync(string prefix, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.List, prefix);
        return inner.ListObjectsAsync(prefix, cancellationToken);
    }

    public virtual Task DeleteObjectAsync(string key, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.Delete, key);
        return inner.DeleteObjectAsync(key, cancellationToken);
    }

    public virtual Task AbortMultipartUploadsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        BeforeCall(StoreCall.AbortMultipartUploads, string.Empty);
        return inner.AbortMultipartUploadsAsync(keys, cancellationToken);
    }

    /// <summary>Runs before every call is passed on; throw here to make the call fail.</summary>
    /// <param name="call">Which call.</param>
    /// <param name="key">Its key (the prefix of a listing; empty for aborts).</param>
    protected virtual void BeforeCall(StoreCall call, string key)
    {
    }
}
