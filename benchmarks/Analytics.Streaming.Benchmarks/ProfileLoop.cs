using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks;

/// <summary>
/// Runs one benchmark method in a plain loop for a while, outside BenchmarkDotNet, so that a profiler (<c>perf stat</c>,
/// <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1</c>) sees nothing but it: <c>--profile YsbBenchmarks.Library 20</c>.
/// </summary>
public static class ProfileLoop
{
    /// <summary>Runs the loop.</summary>
    /// <param name="args">The class and method (<c>Class.Method</c>), then the seconds to run (default 10).</param>
    /// <returns>The exit code.</returns>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A profiling aid for JIT runs only.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "A profiling aid for JIT runs only.")]
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: --profile Class.Method [seconds]");
            return 2;
        }

        int dot = args[0].LastIndexOf('.');
        string typeName = args[0][..dot];
        string methodName = args[0][(dot + 1)..];
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        var type = typeof(ProfileLoop).Assembly.GetTypes().Single(t => t.Name == typeName);
        object instance = Activator.CreateInstance(type)!;
        foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null))
        {
            setup.Invoke(instance, null);
        }

        var method = type.GetMethod(methodName) ?? throw new ArgumentException($"{typeName} has no method {methodName}.");
        var benchmark = method.GetCustomAttribute<BenchmarkAttribute>() ?? throw new ArgumentException($"{methodName} is not a benchmark.");
        var run = method.CreateDelegate<Func<long>>(instance);
        var clock = Stopwatch.StartNew();
        long operations = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            run();
            operations++;
        }

        double perEvent = clock.Elapsed.TotalNanoseconds / (operations * (double)benchmark.OperationsPerInvoke);
        Console.WriteLine($"{args[0]}: {operations} operations x {benchmark.OperationsPerInvoke} in {clock.Elapsed.TotalSeconds:F1} s: {perEvent:F2} ns per operation.");
        return 0;
    }
}
