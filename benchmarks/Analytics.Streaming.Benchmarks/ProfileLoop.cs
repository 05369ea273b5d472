using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks;

/// <summary>
/// Runs one benchmark method in a plain loop for a while, outside BenchmarkDotNet, so that a profiler (<c>perf stat</c>,
/// <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1</c>) sees nothing but it: <c>--profile YsbBenchmarks.Library 20</c>.
/// With a class name only (<c>--profile YsbBenchmarks 10</c>) it runs every benchmark of the class in turn and prints
/// the process CPU time per operation and the ratio to the baseline: on a machine shared with other builds, CPU time
/// is a steadier measure than BenchmarkDotNet's wall-clock time.
/// </summary>
public static class ProfileLoop
{
    /// <summary>
    /// The query benchmarks a Native AOT build keeps for the profile mode (README: "Native AOT"); the trimmer removes
    /// the reflection data of every other class. Under the JIT every class can be profiled.
    /// </summary>
    private static readonly Type[] NativeAotClasses =
    [
        Keep(typeof(Queries.Ysb.YsbBenchmarks)),
        Keep(typeof(Queries.Ysb.YsbReducedBenchmarks)),
        Keep(typeof(Queries.Nexmark.NexmarkQ1Benchmarks)),
        Keep(typeof(Queries.Nexmark.NexmarkQ2Benchmarks)),
        Keep(typeof(Queries.Nexmark.NexmarkQ7Benchmarks)),
        Keep(typeof(Queries.Nexmark.NexmarkQ7MaxByBenchmarks)),
        Keep(typeof(Queries.Nexmark.NexmarkQ8Benchmarks)),
        Keep(typeof(Queries.Sessions.SessionBenchmarks)),
    ];

    /// <summary>Runs the loop.</summary>
    /// <param name="args">The class and method (<c>Class.Method</c>), then the seconds to run (default 10), then any <c>[Params]</c> as <c>Name=value</c> (<c>Keys=10000</c>).</param>
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
        string typeName = dot < 0 ? args[0] : args[0][..dot];
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        Parameters = args.Skip(2).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
        var type = NativeAotClasses.FirstOrDefault(t => t.Name == typeName) ?? typeof(ProfileLoop).Assembly.GetTypes().Single(t => t.Name == typeName);
        if (dot < 0)
        {
            // Every benchmark of the class in turn, each in a fresh instance: CPU time per operation and the ratio to the baseline.
            var methods = type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).ToArray();
            var results = methods.Select(m => (m.Name, Baseline: m.GetCustomAttribute<BenchmarkAttribute>()!.Baseline, Cpu: Measure(type, m, seconds).Cpu)).ToArray();
            double baseline = results.FirstOrDefault(r => r.Baseline).Cpu;
            foreach (var (name, isBaseline, cpu) in results)
            {
                Console.WriteLine($"| {typeName} | {name} | {cpu:F1} ns | {(baseline > 0 ? baseline / cpu : double.NaN):F2} |{(isBaseline ? " baseline" : string.Empty)}");
            }

            return 0;
        }

        string methodName = args[0][(dot + 1)..];
        var (wall, cpuTime, count) = Measure(type, type.GetMethod(methodName) ?? throw new ArgumentException($"{typeName} has no method {methodName}."), seconds);
        Console.WriteLine($"{args[0]}: {count} operations in {seconds:F1} s: {wall:F2} ns (wall), {cpuTime:F2} ns (CPU) per operation.");
        return 0;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A profiling aid for JIT runs only.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "A profiling aid for JIT runs only.")]
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "A profiling aid for JIT runs only.")]
    private static (double Wall, double Cpu, long Operations) Measure(Type type, MethodInfo method, double seconds)
    {
        object instance = Activator.CreateInstance(type)!;
        foreach ((string name, string value) in Parameters)
        {
            PropertyInfo property = type.GetProperty(name) ?? throw new ArgumentException($"{type.Name} has no parameter {name}.");
            property.SetValue(instance, Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
        }

        // The setups and cleanups for this benchmark: those without a target and those aimed at it, as BenchmarkDotNet runs them.
        bool ForThis(TargetedAttribute? attribute) => attribute is not null && (attribute.Targets.Length == 0 || attribute.Targets.Contains(method.Name));
        foreach (var setup in type.GetMethods().Where(m => ForThis(m.GetCustomAttribute<GlobalSetupAttribute>())))
        {
            setup.Invoke(instance, null);
        }

        var benchmark = method.GetCustomAttribute<BenchmarkAttribute>() ?? throw new ArgumentException($"{method.Name} is not a benchmark.");
        // The result only keeps the work alive. Async benchmarks are waited for: a plain loop has no synchronization
        // context, so this only blocks the loop.
        Action run = method.ReturnType switch
        {
            Type t when t == typeof(void) => method.CreateDelegate<Action>(instance),
            Type t when t == typeof(long) => Call(method.CreateDelegate<Func<long>>(instance)),
            Type t when t == typeof(int) => Call(method.CreateDelegate<Func<int>>(instance)),
            Type t when t == typeof(double) => Call(method.CreateDelegate<Func<double>>(instance)),
            Type t when t == typeof(Task<long>) => Wait(method.CreateDelegate<Func<Task<long>>>(instance)),
            Type t when t == typeof(Task<int>) => Wait(method.CreateDelegate<Func<Task<int>>>(instance)),
            Type t => throw new ArgumentException($"{method.Name} returns {t.Name}; the profile mode runs benchmarks returning void, long, int, double, Task<long> or Task<int>."),
        };

        // Warm up (a third of the time) so that tiered compilation has reached its final code before measuring.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed.TotalSeconds < seconds / 3)
        {
            run();
        }

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long operations = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            run();
            operations++;
        }

        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalNanoseconds;
        double perEvent = clock.Elapsed.TotalNanoseconds / (operations * (double)benchmark.OperationsPerInvoke);
        double cpuPerEvent = cpu / (operations * (double)benchmark.OperationsPerInvoke);

        foreach (var cleanup in type.GetMethods().Where(m => ForThis(m.GetCustomAttribute<GlobalCleanupAttribute>())))
        {
            cleanup.Invoke(instance, null);
        }

        // On a shared machine the wall time includes waiting for a core; the process's CPU time does not.
        return (perEvent, cpuPerEvent, operations);
    }

    private static Action Call<T>(Func<T> benchmark) => () => benchmark();

    private static Action Wait<T>(Func<Task<T>> benchmark) => () => benchmark().GetAwaiter().GetResult();

    private static Dictionary<string, string> Parameters { get; set; } = [];

    private static Type Keep([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties)] Type type) => type;
}
