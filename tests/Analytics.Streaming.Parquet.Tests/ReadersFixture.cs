using Analytics.Streaming.TestSupport;

[assembly: AssemblyFixture(typeof(Analytics.Streaming.Parquet.Tests.ReadersFixture))]

namespace Analytics.Streaming.Parquet.Tests;

/// <summary>One DuckDB + hyparquet reader process and one scratch folder for the whole test run (Parquet.Net reads in process).</summary>
public sealed class ReadersFixture : IAsyncLifetime
{
    private ParquetReaders? _readers;
    private int _fileNumber;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "parquet-tests-" + Environment.ProcessId);

    public ParquetReaders Readers => _readers ?? throw new InvalidOperationException("The readers are not started.");

    public string NewPath(string name) => Path.Combine(Directory, $"{Interlocked.Increment(ref _fileNumber):D4}-{name}.parquet");

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        _readers = await ParquetReaders.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_readers is not null)
        {
            await _readers.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
