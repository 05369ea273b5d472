namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Counts of the beacon endpoints: accepted events, refused requests by reason. Thread-safe.</summary>
public sealed class IngestStatistics
{
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];
    private long _acceptedEvents;
    private long _acceptedRequests;
    private long _generatedEvents;

    /// <summary>Gets the events accepted from beacons (pixel and JSON).</summary>
    public long AcceptedEvents => Interlocked.Read(ref _acceptedEvents);

    /// <summary>Gets the beacon requests accepted.</summary>
    public long AcceptedRequests => Interlocked.Read(ref _acceptedRequests);

    /// <summary>Gets the events written by the built-in traffic generators.</summary>
    public long GeneratedEvents => Interlocked.Read(ref _generatedEvents);

    /// <summary>Gets the refused requests of all reasons.</summary>
    public long RejectedRequests
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _rejected.Length; i++)
            {
                total += Interlocked.Read(ref _rejected[i]);
            }

            return total;
        }
    }

    /// <summary>Counts an accepted request.</summary>
    public void Accepted(int events)
    {
        Interlocked.Increment(ref _acceptedRequests);
        Interlocked.Add(ref _acceptedEvents, events);
    }

    /// <summary>Counts generated events.</summary>
    public void Generated(int events) => Interlocked.Add(ref _generatedEvents, events);

    /// <summary>Counts a refused request.</summary>
    public void Rejected(RejectReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);

    /// <summary>Gets the refused requests per reason.</summary>
    public IReadOnlyDictionary<string, long> RejectedByReason()
        => Enum.GetValues<RejectReason>().ToDictionary(r => r.ToString(), r => Interlocked.Read(ref _rejected[(int)r]), StringComparer.Ordinal);
}
