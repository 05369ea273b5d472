using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// One registered unit of work for the worker: a name and how to build what runs under it. Today a unit is one pipeline
/// over one source; a source shared by several pipelines (fan-out) becomes another kind of registration that builds a
/// unit running them together, supervised, monitored and health-checked the same way.
/// </summary>
internal abstract class StreamPipelineRegistration(string name)
{
    public string Name { get; } = name;

    public Func<IServiceProvider, ICheckpointStore>? CheckpointStoreFactory { get; set; }

    public Func<IServiceProvider, IBehindLatestReader>? BehindLatestFactory { get; set; }

    /// <summary>Builds the unit: the pipeline with <paramref name="options"/>, its source, its lag reader.</summary>
    public abstract IHostedPipeline Create(IServiceProvider services, StreamPipelineOptions options);
}

/// <summary>A pipeline over events of type <typeparamref name="TSource"/>.</summary>
internal sealed class StreamPipelineRegistration<TSource> : StreamPipelineRegistration
{
    private readonly Func<IServiceProvider, StreamPipelineOptions, ObservedSource<TSource>, IHostedPipeline> _create;

    public StreamPipelineRegistration(string name, Func<IServiceProvider, StreamPipelineOptions, ObservedSource<TSource>, IHostedPipeline> create)
        : base(name)
    {
        _create = create;
        SourceFactory = DefaultSource;
    }

    public Func<IServiceProvider, IEventSource<TSource>> SourceFactory { get; set; }

    public override IHostedPipeline Create(IServiceProvider services, StreamPipelineOptions options)
    {
        var source = SourceFactory(services)
            ?? throw new InvalidOperationException($"The source factory of pipeline '{Name}' returned null.");
        var reader = BehindLatestFactory?.Invoke(services) ?? source as IBehindLatestReader;
        return _create(services, options, new ObservedSource<TSource>(source, reader));
    }

    private IEventSource<TSource> DefaultSource(IServiceProvider services)
        => services.GetService<IEventSource<TSource>>()
            ?? throw new InvalidOperationException(
                $"Pipeline '{Name}' has no source: register an IEventSource<{typeof(TSource).Name}> in the container, " +
                "or name one with ReadFrom(...) on the pipeline's registration.");
}
