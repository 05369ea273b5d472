using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Lambda;

/// <summary>Settings of a <see cref="KinesisTumblingWindowHandler{TEvent, TKey, TAggregator, TAccumulator, TResult}"/>; validated when the handler is created.</summary>
public sealed class KinesisTumblingWindowHandlerOptions
{
    /// <summary>The most state Lambda carries from one invocation of a window to the next: 1 MB per shard.</summary>
    public const int LambdaStateLimit = 1024 * 1024;

    /// <summary>Gets or sets the name in every result's identity (<see cref="WindowResult{TKey, TValue}.Pipeline"/>). Default <c>"tumbling"</c>.</summary>
    public string Name { get; set; } = "tumbling";

    /// <summary>Gets or sets where records that cannot be decoded go, with their position and reason. Default <see langword="null"/>: counted and logged only.</summary>
    public ISink<DeadLetter>? DeadLetterSink { get; set; }

    /// <summary>Gets or sets whether KPL aggregated records are unpacked into their user records. Default <see langword="true"/>.</summary>
    public bool DeaggregateKplRecords { get; set; } = true;

    /// <summary>
    /// Gets or sets the largest state (its JSON, in UTF-8 bytes) the handler returns; a larger one fails the invocation
    /// with <see cref="LambdaStateTooLargeException"/>. Default and maximum <see cref="LambdaStateLimit"/> (1 MB); at least 1024.
    /// </summary>
    public int MaxStateBytes { get; set; } = LambdaStateLimit;

    /// <summary>Gets or sets where the handler logs (event ids 6100-6199). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("KinesisTumblingWindowHandlerOptions.Name must not be empty: it is part of every result's identity.", nameof(Name));
        }

        if (MaxStateBytes is < 1024 or > LambdaStateLimit)
        {
            throw new ArgumentException($"KinesisTumblingWindowHandlerOptions.MaxStateBytes must be between 1024 and {LambdaStateLimit} (Lambda's 1 MB state limit); got {MaxStateBytes}.", nameof(MaxStateBytes));
        }
    }
}

/// <summary>The state of a tumbling window grew past the limit Lambda carries between invocations (1 MB per shard).</summary>
public sealed class LambdaStateTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LambdaStateTooLargeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LambdaStateTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LambdaStateTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the size of the state that did not fit, in bytes of JSON.</summary>
    public long StateBytes { get; init; }

    /// <summary>Gets the limit it passed.</summary>
    public long LimitBytes { get; init; }
}

/// <summary>
/// A Lambda handler for Kinesis event source mappings with tumbling windows (<c>TumblingWindowInSeconds</c>): Lambda
/// groups the records by arrival time into windows and carries a state between the invocations of a window; this
/// handler keeps per-key accumulators of any mergeable aggregate in that state and writes one result per key at the
/// window's final invocation.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TAggregator">The aggregator.</typeparam>
/// <typeparam name="TAccumulator">Its accumulator, saved in the state through its <see cref="IStateCodec{T}"/>.</typeparam>
/// <typeparam name="TResult">The aggregate result.</typeparam>
/// <remarks>
/// <para>
/// <b>State.</b> One entry per key: the key's text (string keys; other keys in base64 of their codec) and, in base64, the
/// number of records and the accumulator in its binary form (sketches such as HyperLogLog in their versioned binary
/// form), plus <c>$v</c> (format) and <c>$seq</c> (the last sequence number counted). A state larger than
/// <see cref="KinesisTumblingWindowHandlerOptions.MaxStateBytes"/> fails the invocation with
/// <see cref="LambdaStateTooLargeException"/> rather than being cut by Lambda.
/// </para>
/// <para>
/// <b>Retries.</b> Records at or before <c>$seq</c> are replays of a retried batch and are skipped. A decoder that
/// throws marks its record failed: the state returned covers the records before it and the response lists it, so
/// Lambda retries from it. On the final invocation a failure fails the invocation instead (a window's result is never
/// written with records missing); Lambda retries it with the previous state.
/// </para>
/// <para>
/// <b>Results</b> carry the window's start and end, the key, the shard (<see cref="WindowResult{TKey, TValue}.Partition"/>)
/// and the record count; Lambda windows are per shard, so a reader merges the shards' results.
/// </para>
/// </remarks>
public sealed class KinesisTumblingWindowHandler<TEvent, TKey, TAggregator, TAccumulator, TResult>
    where TKey : notnull
    where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
{
    private const string VersionEntry = "$v";
    private const string SequenceEntry = "$seq";

    private readonly IEventDecoder<TEvent> _decoder;
    private readonly Func<TEvent, TKey?> _keySelector;
    private readonly TAggregator _aggregator;
    private readonly IStateCodec<TAccumulator> _accumulatorCodec;
    private readonly IStateCodec<TKey> _keyCodec;
    private readonly ISink<WindowResult<TKey, TResult>> _sink;
    private readonly ISink<DeadLetter>? _deadLetterSink;
    private readonly string _name;
    private readonly bool _deaggregate;
    private readonly int _maxStateBytes;
    private readonly ILogger _log;

    /// <summary>Creates a handler.</summary>
    /// <param name="decoder">Turns each user record's bytes into an event.</param>
    /// <param name="keySelector">The key of an event; <see langword="null"/> sends the record to the dead letters.</param>
    /// <param name="aggregation">The aggregate (for example <c>Aggregates.For&lt;T&gt;().Count()</c>); its accumulators must be persistent.</param>
    /// <param name="sink">Receives the results at each window's final invocation, and is flushed before the response.</param>
    /// <param name="keyCodec">The codec of keys; <see langword="null"/> for the built-in one (strings, integers, GUIDs, instants).</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is invalid, or the keys or accumulators have no codec.</exception>
    public KinesisTumblingWindowHandler(
        IEventDecoder<TEvent> decoder,
        Func<TEvent, TKey?> keySelector,
        Aggregation<TEvent, TAggregator, TAccumulator, TResult> aggregation,
        ISink<WindowResult<TKey, TResult>> sink,
        IStateCodec<TKey>? keyCodec = null,
        KinesisTumblingWindowHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(keySelector);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new KinesisTumblingWindowHandlerOptions();
        options.Validate();
        _decoder = decoder;
        _keySelector = keySelector;
        _aggregator = aggregation.Aggregator;
        _accumulatorCodec = (_aggregator as IPersistentAggregator<TAccumulator>)?.AccumulatorCodec ?? throw new ArgumentException(
            $"The accumulators of {typeof(TAggregator).Name} cannot be saved (it does not implement IPersistentAggregator with a codec), so they cannot travel in Lambda's window state.",
            nameof(aggregation));
        _keyCodec = keyCodec ?? StateCodec.Default<TKey>() ?? throw new ArgumentException(
            $"Keys of type {typeof(TKey).Name} have no built-in codec; pass one (StateCodec.Pair, StateCodec.Json, your own).", nameof(keyCodec));
        _sink = sink;
        _deadLetterSink = options.DeadLetterSink;
        _name = options.Name;
        _deaggregate = options.DeaggregateKplRecords;
        _maxStateBytes = options.MaxStateBytes;
        _log = options.LoggerFactory?.CreateLogger("Analytics.Streaming.Lambda.KinesisTumblingWindowHandler") ?? NullLogger.Instance;
    }

    /// <summary>Handles an invocation in the stream-in, stream-out shape of <c>Amazon.Lambda.RuntimeSupport</c>.</summary>
    /// <param name="input">The event JSON (a <see cref="KinesisStreamTumblingWindowEvent"/>).</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The response JSON (a <see cref="KinesisStreamStateResponse"/>), positioned at its start.</returns>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var windowEvent = await JsonSerializer.DeserializeAsync(input, LambdaJsonContext.Default.KinesisStreamTumblingWindowEvent, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The tumbling-window event is JSON null.");
        var response = await HandleAsync(windowEvent, cancellationToken).ConfigureAwait(false);
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, response, LambdaJsonContext.Default.KinesisStreamStateResponse);
        output.Position = 0;
        return output;
    }

    /// <summary>Handles an invocation with the typed models.</summary>
    /// <param name="windowEvent">The event.</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The state for the next invocation (empty after the final one) and the partial batch failures.</returns>
    /// <exception cref="ArgumentException">The event has no window, mixes shards, has a record with a malformed event id or sequence number, or its state was not written by this handler.</exception>
    /// <exception cref="LambdaStateTooLargeException">The state would pass <see cref="KinesisTumblingWindowHandlerOptions.MaxStateBytes"/>.</exception>
    public async Task<KinesisStreamStateResponse> HandleAsync(KinesisStreamTumblingWindowEvent windowEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windowEvent);
        var range = windowEvent.Window ?? throw new ArgumentException("The event has no window: it does not come from an event source mapping with TumblingWindowInSeconds.", nameof(windowEvent));
        if (range.End <= range.Start)
        {
            throw new ArgumentException($"The window [{range.Start:O}, {range.End:O}) is empty.", nameof(windowEvent));
        }

        var records = windowEvent.Records ?? [];
        string shardId = windowEvent.ShardId ?? (records.Count > 0 ? KinesisBatchDecoder.ShardOf(records[0], 0) : "unknown");
        var sequences = KinesisBatchDecoder.ParseSequenceNumbers(records, shardId);
        using var activity = LambdaTelemetry.ActivitySource.StartActivity("Lambda.KinesisTumblingWindow");
        activity?.SetTag("pipeline", _name);
        activity?.SetTag("shard", shardId);
        var tags = new TagList { { "pipeline", _name }, { "shard", shardId } };

        var state = Restore(windowEvent.State, out SequenceNumber? lastSequence);
        int start = 0;
        while (lastSequence is { } last && start < records.Count && sequences[start] <= last)
        {
            start++;
        }

        var values = new List<StreamRecord<TEvent>>(records.Count - start);
        var deadLetters = new List<DeadLetter>();
        int userRecords = 0;
        int decoded = KinesisBatchDecoder.Decode(records, sequences, start, shardId, _decoder, _deaggregate, values, deadLetters, ref userRecords, out var failure);
        if (failure is not null && windowEvent.IsFinalInvokeForWindow)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        // An aggregator that throws may have counted part of its record already: fold the records again from the state
        // the invocation received, with that record set aside as a dead letter (a few records at most, in practice).
        var setAside = new Dictionary<int, Exception>();
        var folded = Fold(state, values, setAside, shardId);
        while (folded.FailedAt >= 0)
        {
            setAside.Add(folded.FailedAt, folded.Failure!);
            state = Restore(windowEvent.State, out _);
            folded = Fold(state, values, setAside, shardId);
        }

        deadLetters.AddRange(folded.DeadLetters);

        if (decoded > start)
        {
            lastSequence = sequences[decoded - 1];
        }

        var results = windowEvent.IsFinalInvokeForWindow ? Results(state, new TimeWindow(range.Start, range.End), shardId, deadLetters) : [];
        LambdaLog.TumblingWindowInvoked(_log, _name, shardId, range.Start, range.End, decoded - start, state.Count, windowEvent.IsFinalInvokeForWindow, windowEvent.IsWindowTerminatedEarly);
        LambdaTelemetry.TumblingRecords.Add(values.Count, tags);
        if (deadLetters.Count > 0)
        {
            LambdaTelemetry.TumblingDeadLetters.Add(deadLetters.Count, tags);
            if (_deadLetterSink is not null)
            {
                await _deadLetterSink.WriteAsync(deadLetters.ToArray(), cancellationToken).ConfigureAwait(false);
                await _deadLetterSink.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var response = new KinesisStreamStateResponse();
        if (windowEvent.IsFinalInvokeForWindow)
        {
            if (results.Count > 0)
            {
                await _sink.WriteAsync(results.ToArray(), cancellationToken).ConfigureAwait(false);
            }

            await _sink.FlushAsync(cancellationToken).ConfigureAwait(false);
            LambdaTelemetry.TumblingResults.Add(results.Count, tags);
            LambdaLog.TumblingWindowEmitted(_log, _name, shardId, range.Start, range.End, results.Count);
            return response;
        }

        response.State = Save(state, lastSequence);
        long size = JsonSerializer.SerializeToUtf8Bytes(response.State, LambdaJsonContext.Default.DictionaryStringString).Length;
        LambdaTelemetry.TumblingStateSize.Record(size, tags);
        if (size > _maxStateBytes)
        {
            LambdaLog.TumblingStateTooLarge(_log, _name, shardId, size, _maxStateBytes);
            throw new LambdaStateTooLargeException(
                $"The state of tumbling window {_name} on {shardId}, [{range.Start:O}, {range.End:O}), is {size} bytes of JSON for {state.Count} keys, over the limit of {_maxStateBytes} bytes (Lambda carries at most 1 MB per shard). " +
                "Shorten TumblingWindowInSeconds, aggregate fewer keys per window, or use smaller accumulators (a lower HyperLogLog precision).")
            {
                StateBytes = size,
                LimitBytes = _maxStateBytes,
            };
        }

        if (failure is not null)
        {
            string failed = records[decoded].Kinesis.SequenceNumber;
            response.BatchItemFailures.Add(new KinesisStreamBatchItemFailure { ItemIdentifier = failed });
            LambdaLog.TumblingRecordFailed(_log, failure, _name, shardId, failed);
        }

        return response;
    }

    /// <summary>
    /// The window's results, one per key. A key whose value the aggregator cannot compute (its <c>GetResult</c> or a
    /// projection threw) gets a dead letter instead, with the result's id as its payload, as in a pipeline.
    /// </summary>
    private List<WindowResult<TKey, TResult>> Results(Dictionary<TKey, Entry> state, TimeWindow window, string shardId, List<DeadLetter> deadLetters)
    {
        var results = new List<WindowResult<TKey, TResult>>(state.Count);
        foreach (var (key, entry) in state)
        {
            TResult value;
            try
            {
                value = _aggregator.GetResult(entry.Accumulator);
            }
#pragma warning disable CA1031 // The window becomes a dead letter that names the exception; the other keys are emitted.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                deadLetters.Add(DeadLetter.ResultFailed(WindowResult<TKey, TResult>.FormatId(_name, shardId, key, window), ex));
                continue;
            }

            results.Add(new WindowResult<TKey, TResult>(_name, key, window, value) { RecordCount = entry.Records, Partition = shardId });
        }

        return results;
    }

    /// <summary>
    /// Adds the records to the state's accumulators. A key selector that throws makes its record a dead letter
    /// (<see cref="DeadLetterReason.SelectorFailed"/>); so do the records in <paramref name="setAside"/>, which an
    /// aggregator threw on before (<see cref="DeadLetterReason.AggregatorFailed"/>). Stops at the first other record
    /// an aggregator throws on, whose accumulator may then hold part of it.
    /// </summary>
    private (int FailedAt, Exception? Failure, List<DeadLetter> DeadLetters) Fold(Dictionary<TKey, Entry> state, List<StreamRecord<TEvent>> values, Dictionary<int, Exception> setAside, string shardId)
    {
        var deadLetters = new List<DeadLetter>();
        for (int i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var position = new StreamPosition(shardId, value.Sequence, value.SubSequence);
            if (setAside.TryGetValue(i, out var aggregatorFailure))
            {
                deadLetters.Add(DeadLetter.AggregatorFailed(position, aggregatorFailure));
                continue;
            }

            TKey? key;
            try
            {
                key = _keySelector(value.Value);
            }
#pragma warning disable CA1031 // The record becomes a dead letter that names the exception.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                deadLetters.Add(new DeadLetter(position, DeadLetterReason.SelectorFailed, $"The key selector threw {ex.GetType().FullName}: {ex.Message}"));
                continue;
            }

            if (key is null)
            {
                deadLetters.Add(new DeadLetter(position, DeadLetterReason.NullKey, "The key selector returned null."));
                continue;
            }

            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(state, key, out bool exists);
            if (!exists)
            {
                entry.Accumulator = _aggregator.CreateAccumulator();
            }

            try
            {
                _aggregator.Add(ref entry.Accumulator, value.Value);
            }
#pragma warning disable CA1031 // The caller folds again without the record, from the state the invocation received.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return (i, ex, deadLetters);
            }

            entry.Records++;
        }

        return (-1, null, deadLetters);
    }

    private Dictionary<TKey, Entry> Restore(Dictionary<string, string>? saved, out SequenceNumber? lastSequence)
    {
        lastSequence = null;
        var state = new Dictionary<TKey, Entry>();
        if (saved is null || saved.Count == 0)
        {
            return state;
        }

        if (!saved.TryGetValue(VersionEntry, out string? version) || version != "1")
        {
            throw new ArgumentException($"The window state was not written by this handler (no \"{VersionEntry}\": \"1\" entry); it holds {saved.Count} entries.", nameof(saved));
        }

        foreach (var (name, text) in saved)
        {
            if (name == SequenceEntry)
            {
                lastSequence = SequenceNumber.TryParse(text, out var sequence) ? sequence : throw new ArgumentException($"The state's {SequenceEntry} '{text}' is not a sequence number.", nameof(saved));
                continue;
            }

            if (name.Length > 0 && name[0] == '$' && (name.Length < 2 || name[1] != '$'))
            {
                continue;
            }

            try
            {
                var key = DecodeKey(name);
                ReadOnlySpan<byte> bytes = Convert.FromBase64String(text);
                long records = StateCodec.Int64.Read(ref bytes);
                var accumulator = _accumulatorCodec.Read(ref bytes);
                state[key] = new Entry { Records = records, Accumulator = accumulator };
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidDataException or OverflowException or IndexOutOfRangeException)
            {
                throw new ArgumentException($"The window state entry '{name}' cannot be read: {ex.Message}", nameof(saved), ex);
            }
        }

        return state;
    }

    private Dictionary<string, string> Save(Dictionary<TKey, Entry> state, SequenceNumber? lastSequence)
    {
        var saved = new Dictionary<string, string>(state.Count + 2, StringComparer.Ordinal) { [VersionEntry] = "1" };
        if (lastSequence is { } sequence)
        {
            saved[SequenceEntry] = sequence.ToString();
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        foreach (var (key, entry) in state)
        {
            buffer.ResetWrittenCount();
            StateCodec.Int64.Write(buffer, entry.Records);
            _accumulatorCodec.Write(buffer, entry.Accumulator);
            saved[EncodeKey(key)] = Convert.ToBase64String(buffer.WrittenSpan);
        }

        return saved;
    }

    private string EncodeKey(TKey key)
    {
        if (key is string text)
        {
            return text.Length > 0 && text[0] == '$' ? "$" + text : text;
        }

        var keyBuffer = new ArrayBufferWriter<byte>(32);
        _keyCodec.Write(keyBuffer, key);
        return Convert.ToBase64String(keyBuffer.WrittenSpan);
    }

    private TKey DecodeKey(string name)
    {
        if (typeof(TKey) == typeof(string))
        {
            string text = name.StartsWith("$$", StringComparison.Ordinal) ? name[1..] : name;
            return (TKey)(object)text;
        }

        ReadOnlySpan<byte> bytes = Convert.FromBase64String(name);
        return _keyCodec.Read(ref bytes);
    }

    private struct Entry
    {
        public long Records;
        public TAccumulator Accumulator;
    }
}

/// <summary>Creates tumbling-window handlers with the type arguments inferred.</summary>
public static class KinesisTumblingWindowHandler
{
    /// <summary>Creates a handler that aggregates each key of each Lambda tumbling window.</summary>
    /// <typeparam name="TEvent">The event type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TAggregator">The aggregator.</typeparam>
    /// <typeparam name="TAccumulator">Its accumulator.</typeparam>
    /// <typeparam name="TResult">The aggregate result.</typeparam>
    /// <param name="decoder">Turns each user record's bytes into an event.</param>
    /// <param name="keySelector">The key of an event.</param>
    /// <param name="aggregate">Defines the aggregate, as in a pipeline: <c>a =&gt; a.Count().And(a.DistinctCount(e =&gt; e.UserId))</c>.</param>
    /// <param name="sink">Receives the results at each window's final invocation.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="keyCodec">The codec of keys; <see langword="null"/> for the built-in one.</param>
    /// <returns>The handler.</returns>
    public static KinesisTumblingWindowHandler<TEvent, TKey, TAggregator, TAccumulator, TResult> Create<TEvent, TKey, TAggregator, TAccumulator, TResult>(
        IEventDecoder<TEvent> decoder,
        Func<TEvent, TKey?> keySelector,
        Func<AggregateFactory<TEvent>, Aggregation<TEvent, TAggregator, TAccumulator, TResult>> aggregate,
        ISink<WindowResult<TKey, TResult>> sink,
        KinesisTumblingWindowHandlerOptions? options = null,
        IStateCodec<TKey>? keyCodec = null)
        where TKey : notnull
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        return new(decoder, keySelector, aggregate(default), sink, keyCodec, options);
    }
}
