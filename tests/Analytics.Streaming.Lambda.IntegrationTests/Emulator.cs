using Amazon.Runtime;
using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.Lambda.IntegrationTests;

internal static class Emulator
{
    public static KinesisClient Client(Uri endpoint) => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = endpoint,
        Credentials = new BasicAWSCredentials("AKIDTEST", "secret"),
    });
}
