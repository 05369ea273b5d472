namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>The service's configuration (appsettings.json, environment variables such as <c>Dashboard__Password</c>, command line).</summary>
public sealed class ServiceOptions
{
    /// <summary>Gets the dashboard's sign-in (section <c>Dashboard</c>).</summary>
    public DashboardOptions Dashboard { get; init; } = new();

    /// <summary>Gets the JWT bearer (OIDC) sign-in, used when <see cref="JwtOptions.Authority"/> is set (section <c>Jwt</c>).</summary>
    public JwtOptions Jwt { get; init; } = new();

    /// <summary>Gets the beacon limits and the stream they go to (section <c>Ingest</c>).</summary>
    public IngestOptions Ingest { get; init; } = new();

    /// <summary>Gets the built-in traffic generators (section <c>Generators</c>).</summary>
    public GeneratorOptions Generators { get; init; } = new();

    /// <summary>Gets the data lake (section <c>Lake</c>).</summary>
    public LakeOptions Lake { get; init; } = new();

    /// <summary>Gets the optional outputs besides the dashboard and the lake (section <c>Outputs</c>).</summary>
    public OutputOptions Outputs { get; init; } = new();

    /// <summary>Gets or sets the folder for checkpoints (used with Kinesis, whose consumer resumes).</summary>
    public string CheckpointFolder { get; set; } = "data/checkpoints";
}

/// <summary>The configured dashboard user.</summary>
public sealed class DashboardOptions
{
    /// <summary>Gets or sets the user name.</summary>
    public string User { get; set; } = "admin";

    /// <summary>Gets or sets the password; when empty, a random one is made at start and printed.</summary>
    public string? Password { get; set; }

    /// <summary>Gets or sets how many of the last events the dashboard lists.</summary>
    public int RecentEvents { get; set; } = 50;
}

/// <summary>An OIDC issuer whose access tokens the dashboard accepts (Amazon Cognito: <c>https://cognito-idp.{region}.amazonaws.com/{userPoolId}</c>).</summary>
public sealed class JwtOptions
{
    /// <summary>Gets or sets the issuer (its <c>/.well-known/openid-configuration</c> gives the signing keys).</summary>
    public string? Authority { get; set; }

    /// <summary>Gets or sets the dashboard's app client id, required with <see cref="Authority"/>: a token is accepted when its <c>aud</c> (ID tokens) or its <c>client_id</c> (Cognito access tokens) is this.</summary>
    public string? Audience { get; set; }

    /// <summary>Gets or sets a value indicating whether the metadata may come over plain http (local test issuers only).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}

/// <summary>Where beacons go, and their limits.</summary>
public sealed class IngestOptions
{
    /// <summary>Gets the limits of the beacon endpoints.</summary>
    public IngestLimits Limits { get; init; } = new();

    /// <summary>Gets Kinesis Data Streams: when <see cref="KinesisOptions.StreamName"/> is set, beacons go to it and the pipelines read it.</summary>
    public KinesisOptions Kinesis { get; init; } = new();

    /// <summary>Gets Firehose: when <see cref="FirehoseOptions.DeliveryStreamName"/> is set, every accepted beacon is also delivered to it.</summary>
    public FirehoseOptions Firehose { get; init; } = new();
}

/// <summary>A Kinesis data stream.</summary>
public sealed class KinesisOptions
{
    /// <summary>Gets or sets the stream name; empty keeps the embedded stream.</summary>
    public string? StreamName { get; set; }

    /// <summary>Gets or sets the region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an endpoint override (an emulator).</summary>
    public Uri? ServiceUrl { get; set; }
}

/// <summary>A Firehose delivery stream.</summary>
public sealed class FirehoseOptions
{
    /// <summary>Gets or sets the delivery stream name; empty sends nothing to Firehose.</summary>
    public string? DeliveryStreamName { get; set; }

    /// <summary>Gets or sets the region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an endpoint override.</summary>
    public Uri? ServiceUrl { get; set; }
}

/// <summary>The built-in traffic: a web shop with scraper-bot bursts, and a restaurant's menu.</summary>
public sealed class GeneratorOptions
{
    /// <summary>Gets or sets the web shop's page views per second (0 turns it off).</summary>
    public int ShopPerSecond { get; set; } = 200;

    /// <summary>Gets or sets the restaurant menu's page views per second (0 turns it off).</summary>
    public int MenuPerSecond { get; set; } = 40;
}

/// <summary>The Parquet data lake.</summary>
public sealed class LakeOptions
{
    /// <summary>Gets or sets a value indicating whether the lake is written.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the local folder (used when no bucket is set).</summary>
    public string Folder { get; set; } = "data/lake";

    /// <summary>Gets or sets the S3 bucket; when set, the lake goes to S3.</summary>
    public string? Bucket { get; set; }

    /// <summary>Gets or sets the key prefix in the bucket or folder.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Gets or sets the S3 region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an S3 endpoint override (an emulator).</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Gets or sets the Athena/Glue database of the printed DDL.</summary>
    public string Database { get; set; } = "web_analytics";

    /// <summary>Gets or sets how often the raw events table is flushed (objects closed and stored).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Outputs used when configured.</summary>
public sealed class OutputOptions
{
    /// <summary>Gets DynamoDB: when <see cref="DynamoDbOutputOptions.TableName"/> is set, the per-minute results go to that table.</summary>
    public DynamoDbOutputOptions DynamoDb { get; init; } = new();
}

/// <summary>A DynamoDB table of per-minute results.</summary>
public sealed class DynamoDbOutputOptions
{
    /// <summary>Gets or sets the table name; empty writes nothing to DynamoDB. The table is created when missing.</summary>
    public string? TableName { get; set; }

    /// <summary>Gets or sets the region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an endpoint override (an emulator such as dynalite, or DynamoDB Local).</summary>
    public Uri? ServiceUrl { get; set; }
}
