using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Lambda;

/// <summary>Transforms one decoded Firehose record.</summary>
/// <typeparam name="TEvent">The decoded event type.</typeparam>
/// <param name="value">The decoded event.</param>
/// <param name="record">The record as Firehose sent it (id, arrival time, raw bytes, Kinesis origin).</param>
/// <returns>What to answer for the record.</returns>
/// <remarks>An exception thrown here marks the record <c>ProcessingFailed</c> with the exception's message; the other records are not affected.</remarks>
public delegate FirehoseRecordResult FirehoseTransform<TEvent>(TEvent value, FirehoseTransformationEventRecord record);

/// <summary>What a transformation answers for one record: <c>Ok</c> with new bytes (and partition keys), <c>Dropped</c>, or <c>ProcessingFailed</c> with a reason.</summary>
public readonly struct FirehoseRecordResult
{
    private FirehoseRecordResult(string result, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string>? partitionKeys, string? reason)
    {
        Result = result;
        Data = data;
        PartitionKeys = partitionKeys;
        Reason = reason;
    }

    /// <summary>Gets the result: <c>Ok</c>, <c>Dropped</c> or <c>ProcessingFailed</c>.</summary>
    public string Result { get; }

    /// <summary>Gets the bytes to deliver (for <c>Ok</c>).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Gets the dynamic partitioning keys (for <c>Ok</c>), or <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string>? PartitionKeys { get; }

    /// <summary>Gets why the record was dropped or failed, or <see langword="null"/>.</summary>
    public string? Reason { get; }

    /// <summary>Delivers <paramref name="data"/> in place of the record. Firehose adds no delimiter: end JSON lines with <c>\n</c> yourself (or use <see cref="Json{T}"/>).</summary>
    /// <param name="data">The bytes to deliver.</param>
    /// <param name="partitionKeys">Keys for dynamic partitioning (<c>!{partitionKeyFromLambda:name}</c>), or <see langword="null"/>.</param>
    /// <returns>The result.</returns>
    public static FirehoseRecordResult Ok(ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string>? partitionKeys = null)
        => new(FirehoseTransformationResultRecord.Ok, data, partitionKeys, null);

    /// <summary>Delivers <paramref name="value"/> as one JSON line (UTF-8 JSON followed by <c>\n</c>).</summary>
    /// <typeparam name="T">The type of the value.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">Its source-generated serializer metadata.</param>
    /// <param name="partitionKeys">Keys for dynamic partitioning, or <see langword="null"/>.</param>
    /// <returns>The result.</returns>
    public static FirehoseRecordResult Json<T>(T value, JsonTypeInfo<T> typeInfo, IReadOnlyDictionary<string, string>? partitionKeys = null)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        buffer.Write("\n"u8);
        return Ok(buffer.WrittenMemory, partitionKeys);
    }

    /// <summary>Leaves the record out on purpose (Firehose counts it as a success).</summary>
    /// <param name="reason">Why, for the logs; optional.</param>
    /// <returns>The result.</returns>
    public static FirehoseRecordResult Dropped(string? reason = null) => new(FirehoseTransformationResultRecord.Dropped, default, null, reason);

    /// <summary>Fails the record: Firehose writes it under the delivery stream's error output prefix.</summary>
    /// <param name="reason">Why, for the logs.</param>
    /// <returns>The result.</returns>
    public static FirehoseRecordResult Failed(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return new(FirehoseTransformationResultRecord.ProcessingFailed, default, null, reason);
    }
}

/// <summary>Settings of a <see cref="FirehoseTransformationHandler{TEvent}"/>; validated when the handler is created.</summary>
public sealed class FirehoseTransformationHandlerOptions
{
    /// <summary>The largest response a synchronous Lambda invocation may return: 6 MB (6,291,456 bytes).</summary>
    public const int LambdaResponseLimit = 6 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest response the handler returns, in bytes of JSON. Records whose transformed data would
    /// pass it are answered <c>ProcessingFailed</c> with a reason (never silently dropped). Default and maximum
    /// <see cref="LambdaResponseLimit"/>; at least 1024.
    /// </summary>
    public int MaxResponseBytes { get; set; } = LambdaResponseLimit;

    /// <summary>Gets or sets where the handler logs (event ids 6200-6299). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (MaxResponseBytes is < 1024 or > LambdaResponseLimit)
        {
            throw new ArgumentException($"FirehoseTransformationHandlerOptions.MaxResponseBytes must be between 1024 and {LambdaResponseLimit} (Lambda's 6 MB response limit); got {MaxResponseBytes}.", nameof(MaxResponseBytes));
        }
    }
}

/// <summary>
/// A Lambda handler for Firehose data transformation: decodes each record, transforms it, and answers every record
/// exactly once with <c>Ok</c> (new bytes and optional dynamic partitioning keys), <c>Dropped</c> or <c>ProcessingFailed</c>.
/// </summary>
/// <typeparam name="TEvent">The decoded event type.</typeparam>
/// <remarks>
/// <para>
/// A record the decoder refuses, or whose transformation throws, is <c>ProcessingFailed</c> with the reason (logged;
/// Firehose writes the record under the error output prefix). The response never passes
/// <see cref="FirehoseTransformationHandlerOptions.MaxResponseBytes"/> (Lambda's 6 MB): room for every record's id and
/// result is reserved first, then transformed records are added in order while they fit; those that do not are
/// <c>ProcessingFailed</c> with a reason saying so. Stateless and thread-safe.
/// </para>
/// </remarks>
public sealed class FirehoseTransformationHandler<TEvent>
{
    private static ReadOnlySpan<byte> Head => "{\"records\":["u8;

    private static ReadOnlySpan<byte> Tail => "]}"u8;

    private readonly IEventDecoder<TEvent> _decoder;
    private readonly FirehoseTransform<TEvent> _transform;
    private readonly int _maxResponseBytes;
    private readonly ILogger _log;

    /// <summary>Creates a handler.</summary>
    /// <param name="decoder">Turns each record's bytes into an event.</param>
    /// <param name="transform">Transforms each decoded event.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public FirehoseTransformationHandler(IEventDecoder<TEvent> decoder, FirehoseTransform<TEvent> transform, FirehoseTransformationHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(transform);
        options ??= new FirehoseTransformationHandlerOptions();
        options.Validate();
        _decoder = decoder;
        _transform = transform;
        _maxResponseBytes = options.MaxResponseBytes;
        _log = options.LoggerFactory?.CreateLogger("Analytics.Streaming.Lambda.FirehoseTransformationHandler") ?? NullLogger.Instance;
    }

    /// <summary>Handles an invocation in the stream-in, stream-out shape of <c>Amazon.Lambda.RuntimeSupport</c>.</summary>
    /// <param name="input">The event JSON (a <see cref="FirehoseTransformationEvent"/>).</param>
    /// <param name="cancellationToken">Cancels reading the event.</param>
    /// <returns>The response JSON (a <see cref="FirehoseTransformationResult"/>), positioned at its start.</returns>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var firehoseEvent = await JsonSerializer.DeserializeAsync(input, LambdaJsonContext.Default.FirehoseTransformationEvent, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The Firehose event is JSON null.");
        var (_, entries, size) = Transform(firehoseEvent);
        var output = new MemoryStream(size);
        output.Write(Head);
        for (int i = 0; i < entries.Length; i++)
        {
            if (i > 0)
            {
                output.WriteByte((byte)',');
            }

            output.Write(entries[i]);
        }

        output.Write(Tail);
        output.Position = 0;
        return output;
    }

    /// <summary>Handles an invocation with the typed models.</summary>
    /// <param name="firehoseEvent">The event.</param>
    /// <returns>One entry per input record, in input order; <see cref="FirehoseTransformationResultRecord.Reason"/> says why a record failed.</returns>
    public FirehoseTransformationResult Handle(FirehoseTransformationEvent firehoseEvent)
    {
        ArgumentNullException.ThrowIfNull(firehoseEvent);
        return Transform(firehoseEvent).Result;
    }

    private (FirehoseTransformationResult Result, byte[][] Entries, int Size) Transform(FirehoseTransformationEvent firehoseEvent)
    {
        using var activity = LambdaTelemetry.ActivitySource.StartActivity("Lambda.FirehoseTransformation");
        var records = firehoseEvent.Records ?? [];
        string invocation = firehoseEvent.InvocationId ?? string.Empty;
        var typeInfo = LambdaJsonContext.Default.FirehoseTransformationResultRecord;
        var answers = new FirehoseTransformationResultRecord[records.Count];
        var entries = new byte[records.Count][];
        var minimal = new int[records.Count];
        long total = Head.Length + Tail.Length + Math.Max(0, records.Count - 1);
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i] ?? throw new ArgumentException($"Record {i} of the Firehose event is null.", nameof(firehoseEvent));
            answers[i] = Answer(record);
            minimal[i] = JsonSerializer.SerializeToUtf8Bytes(new FirehoseTransformationResultRecord { RecordId = record.RecordId, Result = FirehoseTransformationResultRecord.ProcessingFailed }, typeInfo).Length;
            total += minimal[i];
        }

        if (total > _maxResponseBytes)
        {
            throw new InvalidOperationException(
                $"Firehose invocation {invocation} has {records.Count} records: even answering each with its id alone takes {total} bytes, over the {_maxResponseBytes}-byte response limit. Lower the delivery stream's processor buffer size (BufferSizeInMBs).");
        }

        int ok = 0, dropped = 0, failed = 0, overflow = 0;
        for (int i = 0; i < answers.Length; i++)
        {
            var answer = answers[i];
            byte[] entry = JsonSerializer.SerializeToUtf8Bytes(answer, typeInfo);
            if (total + entry.Length - minimal[i] > _maxResponseBytes)
            {
                int wanted = entry.Length;
                answer = answers[i] = new FirehoseTransformationResultRecord
                {
                    RecordId = answer.RecordId,
                    Result = FirehoseTransformationResultRecord.ProcessingFailed,
                    Reason = $"The transformed record ({wanted} bytes of JSON) does not fit in the {_maxResponseBytes}-byte Lambda response after the records before it; lower the delivery stream's processor buffer size.",
                };
                entry = JsonSerializer.SerializeToUtf8Bytes(answer, typeInfo);
                overflow++;
            }

            total += entry.Length - minimal[i];
            entries[i] = entry;
            switch (answer.Result)
            {
                case FirehoseTransformationResultRecord.Ok:
                    ok++;
                    break;
                case FirehoseTransformationResultRecord.Dropped:
                    dropped++;
                    break;
                default:
                    failed++;
                    LambdaLog.FirehoseRecordFailed(_log, invocation, answer.RecordId, answer.Reason ?? "(no reason)");
                    break;
            }
        }

        if (overflow > 0)
        {
            LambdaLog.FirehoseResponseFull(_log, invocation, overflow, _maxResponseBytes);
            LambdaTelemetry.FirehoseOverflow.Add(overflow);
        }

        LambdaTelemetry.FirehoseRecords.Add(ok, new KeyValuePair<string, object?>("result", FirehoseTransformationResultRecord.Ok));
        LambdaTelemetry.FirehoseRecords.Add(dropped, new KeyValuePair<string, object?>("result", FirehoseTransformationResultRecord.Dropped));
        LambdaTelemetry.FirehoseRecords.Add(failed, new KeyValuePair<string, object?>("result", FirehoseTransformationResultRecord.ProcessingFailed));
        LambdaLog.FirehoseInvocation(_log, invocation, ok, dropped, failed, total);
        activity?.SetTag("records", records.Count);
        Debug.Assert(total <= _maxResponseBytes, "The response fits.");
        return (new FirehoseTransformationResult { Records = answers }, entries, (int)total);
    }

    private FirehoseTransformationResultRecord Answer(FirehoseTransformationEventRecord record)
    {
        FirehoseRecordResult result;
        if (!_decoder.TryDecode(new RawRecord(record.Data, record.KinesisRecordMetadata?.PartitionKey ?? string.Empty, record.ApproximateArrivalTimestamp), out var value, out var error))
        {
            result = FirehoseRecordResult.Failed($"{error.Reason}: {error.Message}");
        }
        else
        {
            try
            {
                result = _transform(value, record);
            }
#pragma warning disable CA1031 // A throwing transformation fails its record only (documented).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                result = FirehoseRecordResult.Failed($"The transformation threw {ex.GetType().Name}: {ex.Message}");
            }
        }

        var answer = new FirehoseTransformationResultRecord { RecordId = record.RecordId, Result = result.Result ?? FirehoseTransformationResultRecord.ProcessingFailed, Reason = result.Reason };
        if (answer.Result == FirehoseTransformationResultRecord.Ok)
        {
            answer.Data = result.Data;
            if (result.PartitionKeys is { Count: > 0 } keys)
            {
                answer.Metadata = new FirehoseTransformationMetadata { PartitionKeys = new Dictionary<string, string>(keys, StringComparer.Ordinal) };
            }
        }
        else if (result.Result is null)
        {
            answer.Reason = "The transformation returned default(FirehoseRecordResult) instead of Ok, Dropped or Failed.";
        }

        return answer;
    }
}

/// <summary>Creates Firehose transformation handlers with the event type inferred from the decoder.</summary>
public static class FirehoseTransformationHandler
{
    /// <summary>Creates a handler.</summary>
    /// <typeparam name="TEvent">The decoded event type.</typeparam>
    /// <param name="decoder">Turns each record's bytes into an event.</param>
    /// <param name="transform">Transforms each decoded event.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The handler.</returns>
    public static FirehoseTransformationHandler<TEvent> Create<TEvent>(IEventDecoder<TEvent> decoder, FirehoseTransform<TEvent> transform, FirehoseTransformationHandlerOptions? options = null)
        => new(decoder, transform, options);
}
