using Analytics.Streaming.CrashTests;
using Analytics.Streaming.S3.IntegrationTests;
using Analytics.Streaming.TestSupport;

// Each peer starts once per test run and is shared by the tests that take it in their constructor.
[assembly: AssemblyFixture(typeof(KinesaliteServer))]
[assembly: AssemblyFixture(typeof(DuckDbFixture))]

namespace Analytics.Streaming.CrashTests;

/// <summary>One DuckDB query process (tests/peers/s3-duckdb-query.js) for the run.</summary>
public sealed class DuckDbFixture : IAsyncLifetime
{
    private DuckDbQuery? _query;

    /// <summary>Gets the query process.</summary>
    public DuckDbQuery Query => _query ?? throw new InvalidOperationException("The DuckDB fixture is not started.");

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _query = await DuckDbQuery.StartAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_query is not null)
        {
            await _query.DisposeAsync();
        }
    }
}
