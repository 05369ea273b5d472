using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Samples.LambdaConsumer;

/// <summary>
/// A minimal client of the Lambda Runtime API (the loop a <c>provided.al2023</c> bootstrap runs): fetch the next
/// invocation, run the handler, post its response or its error. It stands in for <c>Amazon.Lambda.RuntimeSupport</c>,
/// which the README shows as the usual wiring; with RuntimeSupport this file is not needed.
/// </summary>
public static class LambdaRuntimeLoop
{
    private const string Version = "2018-06-01";

    /// <summary>Handles invocations until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="runtimeApi">The value of <c>AWS_LAMBDA_RUNTIME_API</c> (<c>host:port</c>).</param>
    /// <param name="handler">The function.</param>
    /// <param name="time">The clock (for each invocation's deadline).</param>
    /// <param name="cancellationToken">Stops the loop.</param>
    /// <returns>A task that ends when the loop is stopped.</returns>
    public static async Task RunAsync(string runtimeApi, Func<Stream, CancellationToken, Task<Stream>> handler, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(time);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{runtimeApi}/{Version}/runtime/"), Timeout = Timeout.InfiniteTimeSpan };
        while (!cancellationToken.IsCancellationRequested)
        {
            using var next = await http.GetAsync("invocation/next", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            next.EnsureSuccessStatusCode();
            string requestId = next.Headers.GetValues("Lambda-Runtime-Aws-Request-Id").First();
            var deadline = next.Headers.TryGetValues("Lambda-Runtime-Deadline-Ms", out var values) && long.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : time.GetUtcNow().AddMinutes(15);
            var input = await next.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);

            // Leave a second to report before Lambda stops the function at its deadline.
            var remaining = deadline - time.GetUtcNow() - TimeSpan.FromSeconds(1);
            using var invocation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            invocation.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            HttpContent content;
            string path;
            try
            {
                var output = await handler(input, invocation.Token).ConfigureAwait(false);
                content = new StreamContent(output);
                path = $"invocation/{requestId}/response";
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                string error = JsonSerializer.Serialize(new RuntimeError(ex.Message, ex.GetType().FullName ?? ex.GetType().Name), RuntimeJsonContext.Default.RuntimeError);
                content = new StringContent(error, Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                content.Headers.Add("Lambda-Runtime-Function-Error-Type", "Unhandled");
                path = $"invocation/{requestId}/error";
            }

            using (content)
            {
                using var posted = await http.PostAsync(path, content, cancellationToken).ConfigureAwait(false);
                posted.EnsureSuccessStatusCode();
            }
        }
    }
}

/// <summary>The error body of the Runtime API.</summary>
/// <param name="ErrorMessage">The message.</param>
/// <param name="ErrorType">The exception type.</param>
public sealed record RuntimeError(string ErrorMessage, string ErrorType);

/// <summary>Source-generated JSON for the runtime loop.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RuntimeError))]
public sealed partial class RuntimeJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
