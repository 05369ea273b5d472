using Analytics.Streaming;
using Analytics.Streaming.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Analytics.Streaming pipelines to run in the host.</summary>
public static class StreamPipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers a pipeline named <paramref name="name"/> that the host runs from when it starts until it stops:
    /// <paramref name="build"/> describes it, and the returned builder says where its events come from.
    /// </summary>
    /// <typeparam name="TSource">The type of the events the pipeline reads (inferred from what <paramref name="build"/> returns).</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">
    /// The pipeline name: part of every result identity, the key of its checkpoint, its configuration section
    /// (<c>Analytics:Pipelines:{name}</c>), health check and telemetry tag. Unique per application.
    /// </param>
    /// <param name="build">
    /// Builds the pipeline when the host starts, from the application's services and the options the host prepared:
    /// pass them to <c>StreamPipeline.Create</c> as they are (the name, configured values, checkpoint store, the
    /// container's <see cref="TimeProvider"/> and <c>ILoggerFactory</c>) and end with <c>Build()</c>.
    /// </param>
    /// <returns>The pipeline's registration, to name its source and other settings.</returns>
    /// <exception cref="ArgumentException">A pipeline of that name is already registered, or the name is blank.</exception>
    /// <remarks>
    /// <para>
    /// The first call also registers the worker (an <see cref="IHostedService"/> that runs every pipeline), the
    /// <see cref="StreamPipelineMonitor"/>, and validation of every pipeline's options when the host starts
    /// (<c>ValidateOnStart</c>), with the messages <c>Build()</c> gives. Options are bound from the section
    /// <c>Analytics:Pipelines:{name}</c> of the container's <see cref="IConfiguration"/>, when there is one.
    /// </para>
    /// <para>
    /// Each pipeline runs its own source. A source shared by several pipelines (the core's
    /// <c>StreamPipeline.RunAsync(source, pipelines)</c>) is not hosted yet; the registration model (one supervised unit
    /// per name) is meant to take it as another kind of unit.
    /// </para>
    /// </remarks>
    public static HostedStreamPipelineBuilder<TSource> AddStreamPipeline<TSource>(
        this IServiceCollection services,
        string name,
        Func<IServiceProvider, StreamPipelineOptions, IStreamPipeline<TSource>> build)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(build);
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(StreamPipelineRegistration)
                && descriptor.ImplementationInstance is StreamPipelineRegistration existing
                && string.Equals(existing.Name, name, StringComparison.Ordinal))
            {
                throw new ArgumentException($"A pipeline named '{name}' is already registered: pipeline names must be unique, they key checkpoints and configuration.", nameof(name));
            }
        }

        var registration = new StreamPipelineRegistration<TSource>(
            name,
            (provider, options, source) => new HostedPipeline<TSource>(
                build(provider, options) ?? throw new InvalidOperationException($"The build delegate of pipeline '{name}' returned null."),
                source));
        services.AddSingleton<StreamPipelineRegistration>(registration);

        string section = $"{StreamPipelineHostOptions.SectionName}:{name}";
        services.AddOptions<StreamPipelineHostOptions>(name)
            .Configure<IServiceProvider>((options, provider) =>
            {
                if (provider.GetService<IConfiguration>() is { } configuration)
                {
                    configuration.GetSection(section).Bind(options);
                }
            })
            .ValidateOnStart();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StreamPipelineHostOptions>, StreamPipelineHostOptionsValidator>());
        services.TryAddSingleton(provider => new StreamPipelineMonitor(
            provider.GetServices<StreamPipelineRegistration>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StreamPipelineWorker>());
        return new HostedStreamPipelineBuilder<TSource>(services, registration);
    }
}
