using Analytics.Streaming.Testing;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class PipelineLoggingTests
{
    [Fact]
    public async Task RunAsync_WithLoggerFactory_LogsStartCheckpointsDeadLettersAndRestoreWithStableIds()
    {
        var logs = new CollectingLoggerFactory();
        var store = new InMemoryCheckpointStore();
        TestEvent[] events = [new(1, 10, 1), new(1, -3, 1), new(1, 80, 1)];

        await Pipeline(logs, store).RunAsync(InMemorySource<TestEvent>.FromEvents(events), TestContext.Current.CancellationToken);
        await Pipeline(logs, store).RunAsync(InMemorySource<TestEvent>.FromEvents(events), TestContext.Current.CancellationToken);

        Assert.Equal([1000, 1003, 1002, 1007, 1001, 1007], logs.Events.Where(e => e.Id != 1004 && e.Id != 1009).Select(e => e.Id));
        var deadLetter = Assert.Single(logs.Events, e => e.Id == 1003);
        Assert.Equal(LogLevel.Warning, deadLetter.Level);
        Assert.Contains("InvalidEventTime", deadLetter.Message, StringComparison.Ordinal);
        Assert.All(logs.Events, e => Assert.Equal("Analytics.Streaming.StreamPipeline", e.Category));

        static StreamPipeline<TestEvent, int, long> Pipeline(ILoggerFactory logs, ICheckpointStore store)
            => StreamPipeline.Create<TestEvent>(new() { Name = "logged", LoggerFactory = logs, CheckpointStore = store, CheckpointInterval = TimeSpan.FromHours(1) })
                .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count()).To(new CollectingSink<WindowResult<int, long>>()).Build();
    }

    private sealed record LogEvent(string Category, int Id, LogLevel Level, string Message);

    private sealed class CollectingLoggerFactory : ILoggerFactory
    {
        private readonly List<LogEvent> _events = [];

        public IReadOnlyList<LogEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class Logger(CollectingLoggerFactory owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._events)
                {
                    owner._events.Add(new LogEvent(category, eventId.Id, logLevel, formatter(state, exception)));
                }
            }
        }
    }
}
