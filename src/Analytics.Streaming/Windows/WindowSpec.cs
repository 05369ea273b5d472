namespace Analytics.Streaming;

/// <summary>The kind of a <see cref="WindowSpec"/>.</summary>
public enum WindowKind
{
    /// <summary>Fixed-size, non-overlapping windows.</summary>
    Tumbling,

    /// <summary>Fixed-size windows that start every slide (hopping windows); they overlap when the slide is shorter than the size.</summary>
    Sliding,

    /// <summary>Per-key windows of activity separated by a gap of inactivity.</summary>
    Session,
}

/// <summary>
/// Describes how events are grouped into windows: create one with <see cref="Tumbling"/>, <see cref="Sliding"/> or
/// <see cref="Session"/>. Windows are half-open, <c>[start, end)</c>, in UTC event time.
/// </summary>
public sealed class WindowSpec
{
    internal WindowSpec(WindowKind kind, TimeSpan size, TimeSpan slide, TimeSpan gap, TimeSpan offset)
    {
        Kind = kind;
        Size = size;
        Slide = slide;
        Gap = gap;
        Offset = offset;
    }

    /// <summary>Gets the kind of window.</summary>
    public WindowKind Kind { get; }

    /// <summary>Gets the window length (tumbling and sliding windows).</summary>
    public TimeSpan Size { get; }

    /// <summary>Gets the distance between window starts (the size for tumbling windows).</summary>
    public TimeSpan Slide { get; }

    /// <summary>Gets the inactivity gap that ends a session (session windows).</summary>
    public TimeSpan Gap { get; }

    /// <summary>Gets how far window boundaries are shifted from the Unix epoch (for example to align days to a time zone).</summary>
    public TimeSpan Offset { get; }

    /// <summary>The longest window length or gap supported.</summary>
    public static TimeSpan MaxLength { get; } = TimeSpan.FromDays(366);

    /// <summary>Fixed-size, non-overlapping windows aligned to the Unix epoch plus <paramref name="offset"/>.</summary>
    /// <param name="size">The window length; longer than zero, at most 366 days.</param>
    /// <param name="offset">Shifts the boundaries; zero by default, shorter than <paramref name="size"/>.</param>
    /// <returns>The window specification.</returns>
    public static WindowSpec Tumbling(TimeSpan size, TimeSpan offset = default) => new(WindowKind.Tumbling, size, size, TimeSpan.Zero, offset);

    /// <summary>
    /// Windows of <paramref name="size"/> starting every <paramref name="slide"/>. Internally each key keeps one
    /// slice per greatest common divisor of size and slide, so an event costs the same whatever the ratio.
    /// </summary>
    /// <param name="size">The window length; longer than zero, at most 366 days.</param>
    /// <param name="slide">The distance between window starts; longer than zero and at most <paramref name="size"/>.</param>
    /// <param name="offset">Shifts the boundaries; zero by default, shorter than <paramref name="slide"/>.</param>
    /// <returns>The window specification.</returns>
    public static WindowSpec Sliding(TimeSpan size, TimeSpan slide, TimeSpan offset = default) => new(WindowKind.Sliding, size, slide, TimeSpan.Zero, offset);

    /// <summary>
    /// Session windows: a key's events closer than <paramref name="gap"/> to each other form one window
    /// <c>[first event, last event + gap)</c>.
    /// </summary>
    /// <param name="gap">The inactivity gap; longer than zero, at most 366 days.</param>
    /// <returns>The window specification.</returns>
    public static WindowSpec Session(TimeSpan gap) => new(WindowKind.Session, TimeSpan.Zero, TimeSpan.Zero, gap, TimeSpan.Zero);

    /// <summary>Returns a short description such as <c>Sliding(size 00:05:00, slide 00:01:00)</c>.</summary>
    public override string ToString() => Kind switch
    {
        WindowKind.Tumbling => $"Tumbling(size {Size})",
        WindowKind.Sliding => $"Sliding(size {Size}, slide {Slide})",
        _ => $"Session(gap {Gap})",
    };

    internal void Validate()
    {
        if (Kind == WindowKind.Session)
        {
            Check(Gap, "gap");
            return;
        }

        Check(Size, "size");
        Check(Slide, "slide");
        if (Slide > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(Slide), Slide, $"The window slide ({Slide}) must not be longer than the size ({Size}): events between such windows would belong to no window.");
        }

        if (Offset < TimeSpan.Zero || Offset >= Slide)
        {
            throw new ArgumentOutOfRangeException(nameof(Offset), Offset, $"The window offset must be at least zero and shorter than the slide ({Slide}).");
        }
    }

    private static void Check(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > MaxLength)
        {
            throw new ArgumentOutOfRangeException(name, value, $"The window {name} must be longer than zero and at most {MaxLength.TotalDays} days; got {value}.");
        }
    }
}
