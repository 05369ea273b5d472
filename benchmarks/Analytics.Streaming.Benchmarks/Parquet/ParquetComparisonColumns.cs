using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Analytics.Streaming.Benchmarks.Parquet;

/// <summary>Adds "Rows/s" (the <c>Rows</c> parameter over the mean) and "File bytes" to a Parquet benchmark class.</summary>
public sealed class ParquetComparisonColumns : ManualConfig
{
    public ParquetComparisonColumns()
    {
        AddColumn(new RowsPerSecondColumn(), new FileBytesColumn());
    }
}

/// <summary>Rows written per second: the benchmark's <c>Rows</c> parameter divided by its mean time.</summary>
public sealed class RowsPerSecondColumn : IColumn
{
    public string Id => nameof(RowsPerSecondColumn);

    public string ColumnName => "Rows/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Rows written per second (the Rows parameter over the mean)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (mean is not double nanoseconds || benchmarkCase.Parameters["Rows"] is not int rows)
        {
            return "-";
        }

        return (rows / (nanoseconds / 1e9) / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>
/// The size of the file a benchmark writes: its return value (the stream length), obtained in the host process by
/// creating the class, running its global setup and calling the benchmark method once.
/// </summary>
public sealed class FileBytesColumn : IColumn
{
    private readonly ConcurrentDictionary<string, long> _sizes = new();

    public string Id => nameof(FileBytesColumn);

    public string ColumnName => "File bytes";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Bytes of the file written (the method's return value, one call in the host process)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        _sizes.GetOrAdd(benchmarkCase.DisplayInfo, _ => Measure(benchmarkCase)).ToString("N0", CultureInfo.InvariantCulture);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    private static long Measure(BenchmarkCase benchmarkCase)
    {
        var descriptor = benchmarkCase.Descriptor;
        object instance = Activator.CreateInstance(descriptor.Type)!;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            descriptor.Type.GetProperty(parameter.Name, BindingFlags.Public | BindingFlags.Instance)?.SetValue(instance, parameter.Value);
        }

        descriptor.GlobalSetupMethod?.Invoke(instance, null);
        object? result = descriptor.WorkloadMethod.Invoke(instance, null);
        return result switch
        {
            long bytes => bytes,
            Task<long> task => task.GetAwaiter().GetResult(),
            _ => -1,
        };
    }
}
