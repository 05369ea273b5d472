using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;

namespace Analytics.Streaming.Benchmarks;

/// <summary>The shared configuration: memory diagnoser, ratio columns against each class's baseline.</summary>
public static class BenchmarkConfig
{
    /// <summary>Creates the configuration.</summary>
    /// <param name="quick">
    /// BenchmarkDotNet's short job (one launch, three warm-ups, three iterations, in its own process so tiered and PGO
    /// compilation behave as in the default job) instead of the default job.
    /// </param>
    public static IConfig Create(bool quick)
    {
        var job = quick
            ? Job.ShortRun
            : Job.Default;
        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
            .WithOptions(ConfigOptions.DisableLogFile)
            .WithBuildTimeout(TimeSpan.FromMinutes(10));
    }
}
