using Microsoft.Extensions.Options;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// Validates the options of every registered pipeline when the host starts (<c>ValidateOnStart</c>). The pipeline values
/// are checked by <see cref="StreamPipelineOptions.Validate"/> itself, so the messages are the ones <c>Build()</c> gives.
/// </summary>
internal sealed class StreamPipelineHostOptionsValidator(IEnumerable<StreamPipelineRegistration> registrations) : IValidateOptions<StreamPipelineHostOptions>
{
    private readonly HashSet<string> _names = registrations.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

    public ValidateOptionsResult Validate(string? name, StreamPipelineHostOptions options)
    {
        if (name is null || !_names.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        try
        {
            var core = new StreamPipelineOptions { Name = name };
            options.ApplyTo(core);
            core.Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add(ex.Message);
        }

        string section = $"{StreamPipelineHostOptions.SectionName}:{name}";
        var restart = options.Restart;
        if (restart is null)
        {
            failures.Add($"{section}:Restart must not be null.");
        }
        else
        {
            if (restart.BaseDelay <= TimeSpan.Zero)
            {
                failures.Add($"{section}:Restart:BaseDelay must be longer than zero; got {restart.BaseDelay}.");
            }

            if (restart.MaxDelay < restart.BaseDelay)
            {
                failures.Add($"{section}:Restart:MaxDelay must be at least Restart:BaseDelay ({restart.BaseDelay}); got {restart.MaxDelay}.");
            }

            if (restart.MaxAttempts is < 1)
            {
                failures.Add($"{section}:Restart:MaxAttempts must be at least 1 when set (leave it unset to restart without limit); got {restart.MaxAttempts}.");
            }
        }

        var health = options.Health;
        if (health is null)
        {
            failures.Add($"{section}:Health must not be null.");
        }
        else
        {
            Positive(failures, section, "Health:MaxCheckpointAge", health.MaxCheckpointAge);
            Positive(failures, section, "Health:MaxBehindLatest", health.MaxBehindLatest);
            Positive(failures, section, "Health:MaxWatermarkLag", health.MaxWatermarkLag);
        }

        if (options.CheckpointFolder is { } folder && string.IsNullOrWhiteSpace(folder))
        {
            failures.Add($"{section}:CheckpointFolder must not be blank: leave it unset for no checkpoint store.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string section, string setting, TimeSpan? value)
    {
        if (value is { } set && set <= TimeSpan.Zero)
        {
            failures.Add($"{section}:{setting} must be longer than zero; got {set}.");
        }
    }
}
