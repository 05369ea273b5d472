using Analytics.Streaming.Benchmarks;
using BenchmarkDotNet.Running;

// Every benchmark class in this assembly is selectable with BenchmarkDotNet's usual arguments
// (--filter, --list, --job). "--quick" selects the short configuration used for a run in under two minutes;
// "--tiered-off" adds a job with DOTNET_TieredCompilation=0 and "--aot" a Native AOT job, both in the same run.
// "--profile Class.Method [seconds]" runs one benchmark method in a loop without BenchmarkDotNet, for perf.
if (args.Length > 0 && args[0] == "--profile")
{
    return ProfileLoop.Run(args[1..]);
}

bool quick = args.Contains("--quick");
bool tieredOff = args.Contains("--tiered-off");
bool aot = args.Contains("--aot");
string[] rest = args.Where(a => a is not ("--quick" or "--tiered-off" or "--aot")).ToArray();
BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(rest, BenchmarkConfig.Create(quick, tieredOff, aot));
return 0;
