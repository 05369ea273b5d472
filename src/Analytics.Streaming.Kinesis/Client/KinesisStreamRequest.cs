namespace Analytics.Streaming.Kinesis;

/// <summary>A request addressed to one stream, by name, by ARN, or both (the ARN is preferred by the service).</summary>
/// <remarks>The base of the requests of <see cref="IKinesisClient"/> that address a stream.</remarks>
public abstract class KinesisStreamRequest
{
    private protected KinesisStreamRequest()
    {
    }

    /// <summary>Gets the stream name; <see langword="null"/> when <see cref="StreamArn"/> is given.</summary>
    public string? StreamName { get; init; }

    /// <summary>Gets the stream ARN; <see langword="null"/> when <see cref="StreamName"/> is given.</summary>
    public string? StreamArn { get; init; }

    /// <summary>Throws when neither <see cref="StreamName"/> nor <see cref="StreamArn"/> is set.</summary>
    /// <exception cref="ArgumentException">Neither is set.</exception>
    internal void ValidateStream()
    {
        if (string.IsNullOrEmpty(StreamName) && string.IsNullOrEmpty(StreamArn))
        {
            throw new ArgumentException($"{GetType().Name} needs a StreamName or a StreamArn: set one of them.");
        }
    }
}

/// <summary>A stream by name and ARN, where the package needs only the address (the producer's calls).</summary>
internal sealed class StreamAddress : KinesisStreamRequest;
