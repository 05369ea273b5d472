using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace Analytics.Streaming.Benchmarks.Queries;

/// <summary>
/// Event-time windows in Rx.NET: a subject the events are pushed into, <c>GroupByUntil</c> per window whose groups
/// end when a watermark subject passes the window's end (keys grouped inside each window, so only windows subscribe
/// to the watermark); the driver pushes the watermark (largest event time minus the allowed disorder) whenever it
/// crosses a multiple of the slide.
/// </summary>
public abstract class ReactiveRunner<TEvent> : IQueryRunner, IDisposable
{
    private readonly TEvent[] _events;
    private readonly long _windowMs;
    private readonly long _outOfOrdernessMs;
    private IDisposable? _subscription;
    private long _maxMs = long.MinValue;
    private long _nextEnd = long.MinValue;

    /// <summary>Creates the runner; call <see cref="Subscribe"/> from the derived constructor.</summary>
    /// <param name="pass">The events of a pass.</param>
    /// <param name="windowMs">The window slide: the watermark is pushed whenever it crosses a multiple of it.</param>
    /// <param name="outOfOrdernessMs">The allowed disorder.</param>
    protected ReactiveRunner(PassData<TEvent> pass, long windowMs, long outOfOrdernessMs)
    {
        ArgumentNullException.ThrowIfNull(pass);
        _events = pass.Events;
        Clock = new PassClock(pass.PassMs);
        _windowMs = windowMs;
        _outOfOrdernessMs = outOfOrdernessMs;
    }

    /// <inheritdoc />
    public long Results { get; protected set; }

    /// <inheritdoc />
    public long Checksum { get; protected set; }

    /// <summary>Gets the pass clock (the query's selectors add its offset).</summary>
    protected PassClock Clock { get; }

    /// <summary>Gets the events.</summary>
    protected Subject<TEvent> Events { get; } = new();

    /// <summary>Gets the watermark (Unix milliseconds); <see cref="long.MaxValue"/> at the end.</summary>
    protected Subject<long> Watermark { get; } = new();

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = Clock.OffsetMs;
        var events = Events;
        foreach (var e in _events)
        {
            events.OnNext(e);
            long time = offset + TimeOf(e);
            if (time > _maxMs)
            {
                _maxMs = time;
                long watermark = time - _outOfOrdernessMs;
                if (watermark >= _nextEnd)
                {
                    Watermark.OnNext(watermark);
                    _nextEnd = watermark - (watermark % _windowMs) + _windowMs;
                }
            }
        }

        Clock.Next();
    }

    /// <inheritdoc />
    public void Finish()
    {
        Watermark.OnNext(long.MaxValue);
        Events.OnCompleted();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _subscription?.Dispose();
        Events.Dispose();
        Watermark.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Reads an event's time relative to its pass (without the clock's offset); may be a filtered event's.</summary>
    /// <param name="e">The event.</param>
    /// <returns>The time.</returns>
    protected abstract long TimeOf(in TEvent e);

    /// <summary>Keeps the query's subscription.</summary>
    /// <param name="subscription">The subscription.</param>
    protected void Subscribe(IDisposable subscription) => _subscription = subscription;

    /// <summary>A group duration: ends when the watermark reaches <paramref name="endMs"/>.</summary>
    /// <param name="endMs">The window end.</param>
    /// <returns>The duration observable.</returns>
    protected IObservable<long> Until(long endMs) => Watermark.Where(w => w >= endMs);
}
