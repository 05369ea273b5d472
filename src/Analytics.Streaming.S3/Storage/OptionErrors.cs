namespace Analytics.Streaming.S3;

/// <summary>Builds the exception thrown when an options object is invalid.</summary>
internal static class OptionErrors
{
    public static ArgumentException Invalid(string message, string options = "options") => new(message, options);
}
