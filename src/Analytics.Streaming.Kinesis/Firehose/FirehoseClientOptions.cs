namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>Settings of <see cref="FirehoseClient"/>; the endpoint defaults to <c>https://firehose.{Region}.amazonaws.com</c>.</summary>
/// <remarks>See <see cref="AwsClientOptions"/> for every setting and its default.</remarks>
public sealed class FirehoseClientOptions : AwsClientOptions;
