namespace Analytics.Streaming.Samples.OrderTracking;

/// <summary>The service's configuration (appsettings, environment variables such as <c>Smtp__Host</c>, command line such as <c>--Smtp:Host=...</c>).</summary>
public sealed class OrderTrackingOptions
{
    /// <summary>Gets the order stream: Kinesis when <see cref="KinesisOptions.StreamName"/> is set, else the embedded in-process stream (section <c>Kinesis</c>).</summary>
    public KinesisOptions Kinesis { get; init; } = new();

    /// <summary>Gets the status table: DynamoDB when <see cref="DynamoDbOptions.TableName"/> is set, else in memory (section <c>DynamoDb</c>).</summary>
    public DynamoDbOptions DynamoDb { get; init; } = new();

    /// <summary>Gets the SMTP server; when <see cref="SmtpOptions.Host"/> is empty, e-mails go to <see cref="EmailOptions.PickupFolder"/> (section <c>Smtp</c>).</summary>
    public SmtpOptions Smtp { get; init; } = new();

    /// <summary>Gets the confirmation e-mails' sender, identity and once-only claim (section <c>Email</c>).</summary>
    public EmailOptions Email { get; init; } = new();

    /// <summary>Gets the Parquet backup of every order event (section <c>Lake</c>).</summary>
    public LakeOptions Lake { get; init; } = new();

    /// <summary>Gets the API's input limits (section <c>Limits</c>).</summary>
    public OrderLimits Limits { get; init; } = new();

    /// <summary>Gets or sets the folder of the analytics pipelines' checkpoints (used with Kinesis, whose consumer resumes).</summary>
    public string CheckpointFolder { get; set; } = "data/checkpoints";
}

/// <summary>Kinesis Data Streams.</summary>
public sealed class KinesisOptions
{
    /// <summary>Gets or sets the stream (must exist); empty uses the embedded stream.</summary>
    public string? StreamName { get; set; }

    /// <summary>Gets or sets the region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an endpoint such as an emulator's <c>http://127.0.0.1:4567</c>.</summary>
    public Uri? ServiceUrl { get; set; }
}

/// <summary>The DynamoDB status table.</summary>
public sealed class DynamoDbOptions
{
    /// <summary>Gets or sets the table (created with its customer index when missing); empty keeps the statuses in memory.</summary>
    public string? TableName { get; set; }

    /// <summary>Gets or sets the region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an endpoint such as DynamoDB Local's or an emulator's.</summary>
    public Uri? ServiceUrl { get; set; }
}

/// <summary>How the SMTP connection is secured (MailKit's <c>SecureSocketOptions</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>STARTTLS when the server offers it, else plain.</summary>
    Auto,

    /// <summary>Plain text (local test servers only).</summary>
    None,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>STARTTLS required (port 587).</summary>
    StartTls,
}

/// <summary>An SMTP server.</summary>
public sealed class SmtpOptions
{
    /// <summary>Gets or sets the host; empty writes e-mails to the pickup folder instead.</summary>
    public string? Host { get; set; }

    /// <summary>Gets or sets the port.</summary>
    public int Port { get; set; } = 587;

    /// <summary>Gets or sets the user; empty sends without authentication.</summary>
    public string? User { get; set; }

    /// <summary>Gets or sets the password.</summary>
    public string? Password { get; set; }

    /// <summary>Gets or sets the transport security.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Gets or sets the time limit of one SMTP command.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The confirmation e-mails.</summary>
public sealed class EmailOptions
{
    /// <summary>Gets or sets the folder e-mails are written to (one <c>.eml</c> per message, named by Message-Id) when no SMTP host is set.</summary>
    public string PickupFolder { get; set; } = "data/mail";

    /// <summary>Gets or sets the sender address.</summary>
    public string From { get; set; } = "orders@shop.example";

    /// <summary>Gets or sets the sender name.</summary>
    public string FromName { get; set; } = "Example Shop";

    /// <summary>Gets or sets the domain of the Message-Ids (<c>&lt;order-{orderId}.confirmation@{domain}&gt;</c>).</summary>
    public string MessageIdDomain { get; set; } = "orders.shop.example";

    /// <summary>Gets or sets this consumer's name in e-mail claims; a restarted consumer may take over its own unfinished claims at once. Give every instance its own.</summary>
    public string WorkerId { get; set; } = Environment.MachineName;

    /// <summary>Gets or sets how long a claim blocks other consumers before they may take it over (at-least-once after a crash).</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>The Parquet backup of order events.</summary>
public sealed class LakeOptions
{
    /// <summary>Gets or sets a value indicating whether events are backed up.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the local folder (when no bucket is set).</summary>
    public string Folder { get; set; } = "data/lake";

    /// <summary>Gets or sets the S3 bucket; empty uses <see cref="Folder"/>.</summary>
    public string? Bucket { get; set; }

    /// <summary>Gets or sets the key prefix.</summary>
    public string Prefix { get; set; } = "orders/";

    /// <summary>Gets or sets the bucket's region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets an S3 endpoint such as an emulator's.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Gets or sets how often buffered events are written out.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Input limits of the orders API.</summary>
public sealed class OrderLimits
{
    /// <summary>Gets or sets the largest request body (larger ones get 413).</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the most lines in an order.</summary>
    public int MaxItems { get; set; } = 100;

    /// <summary>Gets or sets the largest quantity of a line.</summary>
    public int MaxQuantity { get; set; } = 10_000;

    /// <summary>Gets or sets the highest unit price.</summary>
    public decimal MaxUnitPrice { get; set; } = 1_000_000m;
}
