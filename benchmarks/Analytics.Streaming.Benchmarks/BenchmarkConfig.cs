using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.NativeAot;

namespace Analytics.Streaming.Benchmarks;

/// <summary>The shared configuration: memory diagnoser, ratio columns against each class's baseline.</summary>
public static class BenchmarkConfig
{
    /// <summary>The version of the Native AOT compiler package (Microsoft.DotNet.ILCompiler) the AOT job uses: the installed runtime's.</summary>
    public const string IlCompilerVersion = "10.0.12";

    /// <summary>Creates the configuration.</summary>
    /// <param name="quick">
    /// A short job instead of the default job: one launch per case, in its own process as in the default job (cases in
    /// one process would share the JIT's profiles of the generic engine code), one operation per iteration (no pilot
    /// stage), four warm-ups and five iterations. Hot methods are promoted after their first 30 calls, without the
    /// runtime's 100 ms start-up delay, so that the warm-ups end with fully optimized code.
    /// </param>
    /// <param name="tieredOff">
    /// Also runs every benchmark in a second job with <c>DOTNET_TieredCompilation=0</c> (everything compiled once,
    /// fully optimized, without dynamic PGO), in the same run: ratios are computed per job.
    /// </param>
    /// <param name="aot">Also runs every benchmark compiled with Native AOT (needs the ILCompiler package and clang).</param>
    /// <returns>The configuration.</returns>
    public static IConfig Create(bool quick, bool tieredOff = false, bool aot = false)
    {
        var job = quick
            ? Job.ShortRun.WithInvocationCount(1).WithUnrollFactor(1).WithWarmupCount(4).WithIterationCount(5)
                .WithEnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0")
            : Job.Default;

        // The generated project is built incrementally, on the outputs of the build that started this run.
        job = job.WithToolchain(IncrementalBuilder.Toolchain);
        var config = ManualConfig.CreateEmpty();
        if (tieredOff || aot)
        {
            config.AddJob(job.WithId("PGO"));
            if (tieredOff)
            {
                config.AddJob(job.WithEnvironmentVariable("DOTNET_TieredCompilation", "0").WithId("TieredOff"));
            }

            if (aot)
            {
                config.AddJob(job
                    .WithToolchain(NativeAotToolchain.CreateBuilder()
                        .UseNuGet(IlCompilerVersion)

                        // The machine's own instruction set, as the JIT uses, so that AOT and JIT runs compare like for like.
                        .IlcInstructionSet("native")
                        .TargetFrameworkMoniker("net10.0")
                        .DisplayName("NativeAOT")
                        .ToToolchain())
                    .WithId("NativeAOT"));
            }
        }
        else
        {
            config.AddJob(job);
        }

        return config
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
            .WithOptions(ConfigOptions.DisableLogFile)

            // A Native AOT build compiles everything again, and a first build (nothing built yet) compiles every
            // project: on a shared 2-core machine either takes far longer than the 2-minute default.
            .WithBuildTimeout(TimeSpan.FromMinutes(40));
    }
}
