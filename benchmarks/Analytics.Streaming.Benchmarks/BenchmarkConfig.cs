using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Analytics.Streaming.Benchmarks;

/// <summary>The shared configuration: memory diagnoser, ratio columns against each class's baseline.</summary>
public static class BenchmarkConfig
{
    /// <summary>Creates the configuration.</summary>
    /// <param name="quick">A short in-process job (a few iterations) instead of BenchmarkDotNet's default job.</param>
    public static IConfig Create(bool quick)
    {
        var job = quick
            ? Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(4).WithIterationCount(5).WithLaunchCount(1)
            : Job.Default;
        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
            .WithOptions(ConfigOptions.DisableLogFile);
    }
}
