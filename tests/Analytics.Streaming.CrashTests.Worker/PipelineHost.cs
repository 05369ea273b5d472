using System.Globalization;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Runs a pipeline the way a service does, and tells the test what happens on standard output: a
/// <c>started</c> line with the checkpoint it resumes from, a <c>checkpoint</c> line after every saved checkpoint, and
/// a <c>done</c> line when <c>RunAsync</c> returned (a killed process prints nothing more). The counters lines start
/// with <c>t=</c>, the milliseconds since the pipeline started.
/// </summary>
internal static class PipelineHost
{
    private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Runs the pipeline until its source ends, <paramref name="stopWhen"/> holds for a saved checkpoint, or the timeout.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="store">Its checkpoint store (read once here for the <c>started</c> line).</param>
    /// <param name="source">The source.</param>
    /// <param name="stopWhen">Stops the pipeline gracefully once a saved checkpoint satisfies it; <see langword="null"/> to run until the source ends.</param>
    /// <param name="timeout">How long the run may take.</param>
    /// <returns>The exit code: 0 when the pipeline stopped as planned, 3 after the timeout.</returns>
    public static async Task<int> RunAsync<TKey, TResult>(
        StreamPipeline<SensorEvent, TKey, TResult> pipeline,
        ICheckpointStore store,
        IEventSource<SensorEvent> source,
        Func<PipelineCheckpoint, bool>? stopWhen,
        TimeSpan timeout)
        where TKey : notnull
    {
        Clock.Restart();
        var restored = await store.LoadAsync(pipeline.Name, CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{CrashFiles.StartedLine}restored={restored?.Id ?? 0} watermarkMs={Milliseconds(restored?.Watermark)} pid={Environment.ProcessId}"));

        using var stop = new CancellationTokenSource();
        using var timedOut = new CancellationTokenSource(timeout);
        using var monitorStop = new CancellationTokenSource();
        var run = pipeline.RunAsync(source, stop.Token);
        var monitor = MonitorAsync(pipeline, stopWhen, stop, monitorStop.Token);
        bool timeUp = false;
        using (timedOut.Token.Register(() =>
        {
            timeUp = true;
            stop.Cancel();
        }))
        {
            await run.ConfigureAwait(false);
        }

        await monitorStop.CancelAsync().ConfigureAwait(false);
        await monitor.ConfigureAwait(false);
        Console.WriteLine(CrashFiles.DoneLine + Describe(pipeline.Statistics, pipeline.Statistics.LastCheckpoint) + (timeUp ? " timeout=true" : string.Empty));
        if (timeUp)
        {
            await Console.Error.WriteLineAsync($"The worker did not finish within {timeout}.").ConfigureAwait(false);
            return 3;
        }

        return 0;
    }

    private static async Task MonitorAsync<TKey, TResult>(StreamPipeline<SensorEvent, TKey, TResult> pipeline, Func<PipelineCheckpoint, bool>? stopWhen, CancellationTokenSource stop, CancellationToken cancellationToken)
        where TKey : notnull
    {
        long printed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var statistics = pipeline.Statistics;
            if (statistics.LastCheckpoint is { } checkpoint && checkpoint.Id != printed)
            {
                printed = checkpoint.Id;
                Console.WriteLine(CrashFiles.CheckpointLine + Describe(statistics, checkpoint));
                if (stopWhen?.Invoke(checkpoint) == true)
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }

            try
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Describe(PipelineStatistics statistics, PipelineCheckpoint? checkpoint)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"t={Clock.ElapsedMilliseconds}ms id={checkpoint?.Id ?? 0} watermarkMs={Milliseconds(checkpoint?.Watermark)} in={statistics.RecordsIn} accepted={statistics.RecordsAccepted} late={statistics.LateRecords} dead={statistics.DeadLetters} replayed={statistics.RecordsReplayed} results={statistics.ResultsOut} restored={statistics.RestoredFrom?.Id ?? 0}");

    private static long Milliseconds(DateTimeOffset? time)
        => time is not { } t ? long.MinValue : t == DateTimeOffset.MaxValue ? long.MaxValue : t == DateTimeOffset.MinValue ? long.MinValue : t.ToUnixTimeMilliseconds();
}
