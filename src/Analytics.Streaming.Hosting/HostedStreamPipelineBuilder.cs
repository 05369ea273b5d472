using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// The registration of one hosted pipeline, returned by <c>AddStreamPipeline</c>: where its events come from, where it
/// keeps checkpoints, how its lag is read, and code-side settings.
/// </summary>
/// <typeparam name="TSource">The type of the events the pipeline reads.</typeparam>
/// <remarks>
/// Every method records a choice and returns this builder; nothing is resolved or built until the host starts.
/// Factories run once, when the host starts: the pipeline and its source live as long as the host, and a restart
/// after a failure runs the same pipeline over the same source again (the source is enumerated anew, from the
/// positions of the last checkpoint). The host disposes neither the source nor the sinks: register them in the
/// container to have them disposed with it.
/// </remarks>
public sealed class HostedStreamPipelineBuilder<TSource>
{
    private readonly StreamPipelineRegistration<TSource> _registration;

    internal HostedStreamPipelineBuilder(IServiceCollection services, StreamPipelineRegistration<TSource> registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>Gets the pipeline name: its key in configuration (<c>Analytics:Pipelines:{Name}</c>), checkpoints, health checks and telemetry.</summary>
    public string Name => _registration.Name;

    /// <summary>Gets the service collection the pipeline is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Reads the pipeline's events from the source <paramref name="factory"/> returns (for example a Kinesis shard
    /// consumer with <c>.Decode(decoder)</c>). Without a call to one of the <c>ReadFrom</c> methods the pipeline reads from
    /// the <see cref="IEventSource{T}"/> registered in the container.
    /// </summary>
    /// <param name="factory">Creates the source when the host starts; receives the application's services.</param>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> ReadFrom(Func<IServiceProvider, IEventSource<TSource>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _registration.SourceFactory = factory;
        return this;
    }

    /// <summary>Reads the pipeline's events from the service <typeparamref name="TEventSource"/> registered in the container.</summary>
    /// <typeparam name="TEventSource">The source type, registered in the container.</typeparam>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> ReadFrom<TEventSource>()
        where TEventSource : class, IEventSource<TSource>
        => ReadFrom(static services => services.GetRequiredService<TEventSource>());

    /// <summary>
    /// Keeps the pipeline's checkpoints in the store <paramref name="factory"/> returns (a DynamoDB store, an
    /// <see cref="InMemoryCheckpointStore"/> in tests). Wins over the configured <c>CheckpointFolder</c>.
    /// </summary>
    /// <param name="factory">Creates (or resolves) the store when the host starts. The host does not dispose it.</param>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> UseCheckpointStore(Func<IServiceProvider, ICheckpointStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _registration.CheckpointStoreFactory = factory;
        return this;
    }

    /// <summary>
    /// Changes the pipeline's settings in code, after they are bound from configuration (what is set here wins).
    /// They are validated when the host starts.
    /// </summary>
    /// <param name="configure">Changes the settings.</param>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> Configure(Action<StreamPipelineHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Name, configure);
        return this;
    }

    /// <summary>
    /// Reads how far the pipeline is behind the newest record of each partition from <paramref name="factory"/>'s
    /// reader, instead of from the batches (see <see cref="IBehindLatestReader"/>).
    /// </summary>
    /// <param name="factory">Creates (or resolves) the reader when the host starts.</param>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> ReadBehindLatestFrom(Func<IServiceProvider, IBehindLatestReader> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _registration.BehindLatestFactory = factory;
        return this;
    }

    /// <summary>
    /// Reads how far the pipeline is behind the newest record of each partition from a service in the container, for
    /// example <c>.ReadBehindLatestFrom&lt;KinesisShardConsumer&gt;(consumer =&gt; consumer.BehindLatest)</c>.
    /// </summary>
    /// <typeparam name="TService">The service that knows the figures, registered in the container.</typeparam>
    /// <param name="read">Reads the figures per partition; called from health checks, so it must be cheap and thread-safe.</param>
    /// <returns>This builder.</returns>
    public HostedStreamPipelineBuilder<TSource> ReadBehindLatestFrom<TService>(Func<TService, IReadOnlyDictionary<string, TimeSpan>> read)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(read);
        return ReadBehindLatestFrom(services => new DelegateBehindLatestReader<TService>(services.GetRequiredService<TService>(), read));
    }

    private sealed class DelegateBehindLatestReader<TService>(TService service, Func<TService, IReadOnlyDictionary<string, TimeSpan>> read) : IBehindLatestReader
    {
        public IReadOnlyDictionary<string, TimeSpan> ReadBehindLatest() => read(service);
    }
}
