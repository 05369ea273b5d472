namespace Analytics.Streaming.Hosting;

/// <summary>What the worker supervises: something with a name that runs until cancelled, its source ends, or it fails.</summary>
internal interface IHostedPipeline
{
    string Name { get; }

    /// <summary>Gets the counters of the current (or last) run.</summary>
    PipelineStatistics Statistics { get; }

    /// <summary>Gets what the source wrapper saw: batches read, lag, source failures.</summary>
    SourceObservation Observation { get; }

    /// <summary>Runs once: from the last checkpoint until cancelled (final flush and checkpoint) or the source ends.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>One <see cref="StreamPipeline{TSource, TKey, TResult}"/> over one source.</summary>
internal sealed class HostedPipeline<TSource, TKey, TResult>(StreamPipeline<TSource, TKey, TResult> pipeline, ObservedSource<TSource> source) : IHostedPipeline
    where TKey : notnull
{
    public string Name => pipeline.Name;

    public PipelineStatistics Statistics => pipeline.Statistics;

    public SourceObservation Observation => source.Observation;

    public Task RunAsync(CancellationToken cancellationToken) => pipeline.RunAsync(source, cancellationToken);
}
