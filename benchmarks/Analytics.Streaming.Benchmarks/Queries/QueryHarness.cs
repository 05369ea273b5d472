namespace Analytics.Streaming.Benchmarks.Queries;

/// <summary>
/// The event-time offset of one query run: every pass over the same pre-generated events is shifted forward by the
/// pass length, so that a run stays in steady state (windows opening and closing) instead of replaying the past.
/// </summary>
/// <param name="passMs">The event time one pass covers.</param>
public sealed class PassClock(long passMs)
{
    /// <summary>Gets the offset (Unix milliseconds) added to every event time of the current pass.</summary>
    public long OffsetMs { get; private set; } = Engine.BenchData.StartMs;

    /// <summary>Gets the event time one pass covers.</summary>
    public long PassMs { get; } = passMs;

    /// <summary>Moves on to the next pass.</summary>
    public void Next() => OffsetMs += PassMs;
}

/// <summary>Events of one pass, pre-generated in memory, both as a flat array and as numbered batches of one partition.</summary>
/// <typeparam name="T">The event type.</typeparam>
public sealed class PassData<T>
{
    /// <summary>Creates the pass.</summary>
    /// <param name="events">The events, event times relative to the pass start.</param>
    /// <param name="passMs">The event time the pass covers.</param>
    /// <param name="batchSize">Records per batch.</param>
    /// <param name="partition">The partition id of the batches.</param>
    public PassData(T[] events, long passMs, int batchSize = Engine.BenchData.BatchSize, string partition = "shardId-000000000000")
    {
        Events = events;
        PassMs = passMs;
        int count = (events.Length + batchSize - 1) / batchSize;
        Batches = new RecordBatch<T>[count];
        for (int b = 0; b < count; b++)
        {
            int start = b * batchSize;
            int length = Math.Min(batchSize, events.Length - start);
            var records = new StreamRecord<T>[length];
            for (int i = 0; i < length; i++)
            {
                records[i] = new StreamRecord<T>(events[start + i], SequenceNumber.FromInt64(start + i + 1L));
            }

            Batches[b] = new RecordBatch<T>(partition, records);
        }
    }

    /// <summary>Gets the events of one pass.</summary>
    public T[] Events { get; }

    /// <summary>Gets the same events cut into batches.</summary>
    public RecordBatch<T>[] Batches { get; }

    /// <summary>Gets the event time the pass covers.</summary>
    public long PassMs { get; }
}

/// <summary>
/// One implementation of a query (the library, a hand-written loop, Rx.NET), kept alive across passes so that it runs
/// in steady state. <see cref="Results"/> and <see cref="Checksum"/> let a setup check that every implementation
/// computes the same answer before any of them is timed.
/// </summary>
public interface IQueryRunner
{
    /// <summary>Gets the number of results (window results, or output records for map and filter queries) so far.</summary>
    long Results { get; }

    /// <summary>Gets a query-specific sum over every result so far (counts, maxima, prices).</summary>
    long Checksum { get; }

    /// <summary>Processes the next pass of events (the next stretch of event time).</summary>
    void RunPass();

    /// <summary>Ends the input: every open window is emitted.</summary>
    void Finish();
}

/// <summary>A window output that counts the results and adds a value of each to a checksum; late records and dead letters fail the run.</summary>
/// <typeparam name="TSource">The source type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
/// <param name="value">What a result adds to the checksum.</param>
public sealed class ChecksumOutput<TSource, TKey, TResult>(Func<TResult, long> value) : IWindowOutput<TSource, TKey, TResult>
{
    /// <summary>Gets the number of results received.</summary>
    public long Results { get; private set; }

    /// <summary>Gets the sum of the results' values.</summary>
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void OnResult(in WindowResult<TKey, TResult> result)
    {
        Results++;
        Checksum += value(result.Value);
    }

    /// <inheritdoc />
    public void OnLateRecord(in LateRecord<TSource> record) => throw new InvalidOperationException($"Unexpected late record at {record.EventTime:O} (watermark {record.Watermark:O}).");

    /// <inheritdoc />
    public void OnDeadLetter(DeadLetter deadLetter) => throw new InvalidOperationException(deadLetter.ToString());
}

/// <summary>
/// Runs a pipeline built with the library's public builder, driven synchronously through
/// <see cref="WindowProcessor{TSource, TKey, TResult}"/> batch by batch, as a Lambda handler or a custom host would.
/// </summary>
/// <typeparam name="TSource">The event type.</typeparam>
/// <typeparam name="TKey">The result key type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed class LibraryRunner<TSource, TKey, TResult> : IQueryRunner
    where TKey : notnull
{
    private readonly PassData<TSource> _data;
    private readonly PassClock _clock;
    private readonly WindowProcessor<TSource, TKey, TResult> _processor;
    private readonly ChecksumOutput<TSource, TKey, TResult> _output;

    /// <summary>Builds the pipeline and its processor.</summary>
    /// <param name="data">The events of one pass.</param>
    /// <param name="build">Builds the pipeline; event times must add <see cref="PassClock.OffsetMs"/> of the clock it is given.</param>
    /// <param name="checksum">What a result adds to the checksum.</param>
    public LibraryRunner(PassData<TSource> data, Func<PassClock, StreamPipeline<TSource, TKey, TResult>> build, Func<TResult, long> checksum)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(build);
        _data = data;
        _clock = new PassClock(data.PassMs);
        _processor = build(_clock).CreateProcessor();
        _output = new ChecksumOutput<TSource, TKey, TResult>(checksum);
    }

    /// <inheritdoc />
    public long Results => _output.Results;

    /// <inheritdoc />
    public long Checksum => _output.Checksum;

    /// <inheritdoc />
    public void RunPass()
    {
        var processor = _processor;
        var output = _output;
        foreach (var batch in _data.Batches)
        {
            processor.Process(batch, output);
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => _processor.Complete(_output);
}

/// <summary>Checks that the implementations of a query agree before any is timed.</summary>
public static class QueryVerification
{
    /// <summary>Runs fresh runners over a few passes, finishes them, and throws when their results or checksums differ.</summary>
    /// <param name="query">The query name, for the message.</param>
    /// <param name="passes">How many passes to run.</param>
    /// <param name="runners">Fresh runners, by implementation name.</param>
    public static void Verify(string query, int passes, params (string Name, IQueryRunner Runner)[] runners)
    {
        ArgumentNullException.ThrowIfNull(runners);
        foreach (var (_, runner) in runners)
        {
            for (int p = 0; p < passes; p++)
            {
                runner.RunPass();
            }

            runner.Finish();
        }

        var (firstName, first) = runners[0];
        foreach (var (name, runner) in runners.Skip(1))
        {
            if (runner.Results != first.Results || runner.Checksum != first.Checksum)
            {
                throw new InvalidOperationException(
                    $"{query}: {name} gives {runner.Results} results (checksum {runner.Checksum}), {firstName} gives {first.Results} (checksum {first.Checksum}).");
            }
        }

        Console.WriteLine($"// {query}: {runners.Length} implementations agree over {passes} passes: {first.Results} results, checksum {first.Checksum}.");
    }
}
