using Analytics.Streaming.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the health checks of hosted Analytics.Streaming pipelines.</summary>
public static class StreamPipelineHealthChecksBuilderExtensions
{
    /// <summary>The tag every pipeline health check carries, to filter them (for example on a readiness endpoint).</summary>
    public const string Tag = "analytics-streaming";

    /// <summary>The prefix of each check's name; the pipeline name follows: <c>analytics-streaming:{pipeline}</c>.</summary>
    public const string NamePrefix = "analytics-streaming:";

    /// <summary>
    /// Adds one health check per pipeline registered with <c>AddStreamPipeline</c> (before or after this call), named
    /// <c>analytics-streaming:{pipeline}</c> and tagged <c>analytics-streaming</c>.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="failureStatus">
    /// The status of a pipeline that failed (waiting to restart, or given up) or whose checkpoint is stale. Default
    /// <see cref="HealthStatus.Unhealthy"/>.
    /// </param>
    /// <param name="tags">More tags for every check.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// <para>Each check reports, worst first:</para>
    /// <list type="bullet">
    /// <item><description><paramref name="failureStatus"/> while the pipeline waits to restart after a failure or was given up on (the description and exception carry the last failure), or while its checkpoint is older than <c>Health:MaxCheckpointAge</c> with records read since waiting for one;</description></item>
    /// <item><description>Degraded before it started, while it recovers (restarted after a failure, no checkpoint saved since), when a partition is further behind the newest record than <c>Health:MaxBehindLatest</c>, or the watermark lags more than <c>Health:MaxWatermarkLag</c> (when set);</description></item>
    /// <item><description>Healthy while it runs, and once it stopped with the host or completed because its source ended.</description></item>
    /// </list>
    /// <para>
    /// The result's data holds <c>state</c>, <c>runs</c>, <c>restarts</c>, <c>consecutiveFailures</c>, <c>lastFailure</c>,
    /// <c>lastFailureKind</c>, <c>lastFailureAt</c>, <c>nextRestartAt</c>, <c>checkpointId</c>, <c>checkpointAgeSeconds</c>,
    /// <c>uncheckpointedRecords</c>, <c>millisBehindLatest</c>, <c>watermarkLagSeconds</c>, <c>recordsIn</c>,
    /// <c>resultsOut</c>, <c>lateRecords</c> and <c>deadLetters</c> (each when known). A change of status is logged
    /// (event 8006) when a check runs.
    /// </para>
    /// </remarks>
    public static IHealthChecksBuilder AddStreamPipelineChecks(this IHealthChecksBuilder builder, HealthStatus failureStatus = HealthStatus.Unhealthy, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string[] allTags = [Tag, .. tags ?? []];
        builder.Services.AddOptions<HealthCheckServiceOptions>()
            .Configure<IEnumerable<StreamPipelineRegistration>>((options, registrations) =>
            {
                foreach (var registration in registrations)
                {
                    string name = NamePrefix + registration.Name;
                    if (options.Registrations.Any(r => string.Equals(r.Name, name, StringComparison.Ordinal)))
                    {
                        continue;
                    }

                    string pipeline = registration.Name;
                    options.Registrations.Add(new HealthCheckRegistration(
                        name,
                        provider => new StreamPipelineHealthCheck(
                            pipeline,
                            provider.GetRequiredService<StreamPipelineMonitor>(),
                            provider.GetRequiredService<IOptionsMonitor<StreamPipelineHostOptions>>(),
                            (provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(HostingLog.Category)),
                        failureStatus,
                        allTags));
                }
            });
        return builder;
    }
}
