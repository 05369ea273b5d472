namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Spaces the GetRecords calls of one shard reader so that it stays within the shard's read limits: a number of
/// calls per second and a number of bytes per second.
/// </summary>
/// <remarks>
/// A call may start once both the call interval (1 s / calls per second) and the time the previous response's bytes
/// need at the byte rate have passed since the previous call started. Not thread-safe: one per shard reader.
/// </remarks>
internal sealed class ShardReadLimiter
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _callInterval;
    private readonly double _bytesPerSecond;
    private long _lastCallStart;
    private TimeSpan _gap;
    private bool _called;

    public ShardReadLimiter(int callsPerSecond, long bytesPerSecond, TimeProvider time)
    {
        _time = time;
        _callInterval = TimeSpan.FromSeconds(1.0 / callsPerSecond);
        _bytesPerSecond = bytesPerSecond;
    }

    /// <summary>Gets how long the reader must wait before its next call; zero when it may call now.</summary>
    public TimeSpan DelayBeforeNextCall
    {
        get
        {
            if (!_called)
            {
                return TimeSpan.Zero;
            }

            var remaining = _gap - _time.GetElapsedTime(_lastCallStart);
            return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }
    }

    /// <summary>Records that a call starts now.</summary>
    public void OnCallStarting()
    {
        _lastCallStart = _time.GetTimestamp();
        _gap = _callInterval;
        _called = true;
    }

    /// <summary>Records the bytes the call returned, which may push the next call further out.</summary>
    /// <param name="bytes">The payload bytes of the response's records.</param>
    public void OnResponse(long bytes)
    {
        var byBytes = TimeSpan.FromSeconds(bytes / _bytesPerSecond);
        if (byBytes > _gap)
        {
            _gap = byBytes;
        }
    }

    /// <summary>Waits until the next call is allowed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the reader may call.</returns>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        var delay = DelayBeforeNextCall;
        return delay > TimeSpan.Zero ? Task.Delay(delay, _time, cancellationToken) : Task.CompletedTask;
    }
}
