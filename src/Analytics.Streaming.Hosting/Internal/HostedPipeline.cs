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

/// <summary>
/// One pipeline over one source. (Several pipelines over one source would run through
/// <c>StreamPipeline.RunAsync(source, pipelines)</c> as another implementation of <see cref="IHostedPipeline"/>.)
/// </summary>
internal sealed class HostedPipeline<TSource>(IStreamPipeline<TSource> pipeline, ObservedSource<TSource> source) : IHostedPipeline
{
    public string Name => pipeline.Name;

    public PipelineStatistics Statistics => pipeline.Statistics;

    public SourceObservation Observation => source.Observation;

    public Task RunAsync(CancellationToken cancellationToken) => pipeline.RunAsync(source, cancellationToken);
}
