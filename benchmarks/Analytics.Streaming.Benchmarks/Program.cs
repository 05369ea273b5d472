using Analytics.Streaming.Benchmarks;
using BenchmarkDotNet.Running;

// Every benchmark class in this assembly is selectable with BenchmarkDotNet's usual arguments
// (--filter, --list, --job). "--quick" selects the short configuration used for a run in under two minutes.
bool quick = args.Contains("--quick");
string[] rest = args.Where(a => a != "--quick").ToArray();
BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(rest, BenchmarkConfig.Create(quick));
