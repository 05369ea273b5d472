namespace Analytics.Streaming.Scoring;

/// <summary>
/// An exponentially weighted rolling mean and variance of one metric: the baseline that z-scores are measured
/// against. A mutable struct of 24 bytes, kept per entity (machine, customer, key) by the caller.
/// </summary>
/// <remarks>
/// <para>
/// Update rule (West's incremental EWMA): with <c>a = max(alpha, 1 / n)</c> for the n-th sample,
/// <c>d = x - mean; mean += a d; variance = (1 - a) (variance + a d^2)</c>. The <c>1 / n</c> floor makes the first
/// samples an exact running average, so the baseline is usable after a few samples; afterwards the weight of a
/// sample halves every <c>ln 2 / alpha</c> samples.
/// </para>
/// <para>
/// NaN and infinities are ignored by <see cref="Update"/>. <see cref="ZScore"/> returns NaN while fewer than
/// <c>minSamples</c> samples have been seen (the caller's missing-value policy decides). The standard deviation is
/// floored at <c>minStandardDeviation</c> so that a perfectly constant metric does not produce infinite z-scores.
/// Not thread-safe; allocation-free.
/// </para>
/// </remarks>
public struct RollingBaseline
{
    /// <summary>Gets the number of samples seen.</summary>
    public long Count { get; private set; }

    /// <summary>Gets the rolling mean; 0 before the first sample.</summary>
    public double Mean { get; private set; }

    /// <summary>Gets the rolling variance.</summary>
    public double Variance { get; private set; }

    /// <summary>Gets the rolling standard deviation.</summary>
    public readonly double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>Converts a half-life in samples to the smoothing factor <c>alpha = 1 - 2^(-1 / halfLife)</c>.</summary>
    /// <param name="halfLife">The number of samples after which a sample's weight has halved (at least 1).</param>
    /// <returns>The smoothing factor.</returns>
    public static double AlphaFromHalfLife(double halfLife) => 1 - Math.Pow(2, -1 / Math.Max(1, halfLife));

    /// <summary>Adds a sample.</summary>
    /// <param name="value">The sample; NaN and infinities are ignored.</param>
    /// <param name="alpha">The smoothing factor, in (0, 1].</param>
    public void Update(double value, double alpha)
    {
        if (!double.IsFinite(value))
        {
            return;
        }

        Count++;
        double a = Weight(alpha, Count);
        double d = value - Mean;
        Mean += a * d;
        Variance = (1 - a) * (Variance + (a * d * d));
    }

    /// <summary>The z-score of a value against the baseline, <c>(value - mean) / max(sd, minStandardDeviation)</c>.</summary>
    /// <param name="value">The value.</param>
    /// <param name="minSamples">Samples needed before a z-score is given.</param>
    /// <param name="minStandardDeviation">The floor of the standard deviation (greater than 0).</param>
    /// <returns>The z-score; NaN when the value is not finite or the baseline is still warming up.</returns>
    public readonly double ZScore(double value, long minSamples, double minStandardDeviation)
    {
        if (!double.IsFinite(value) || Count < Math.Max(1, minSamples))
        {
            return double.NaN;
        }

        return (value - Mean) / Math.Max(StandardDeviation, minStandardDeviation);
    }

    /// <summary>
    /// <see cref="ZScore"/> then <see cref="Update"/> in one pass (the scorers' hot path), with identical results:
    /// the z-score is taken against the baseline before the value updates it.
    /// </summary>
    /// <param name="value">The value; NaN and infinities give NaN and leave the baseline unchanged.</param>
    /// <param name="alpha">The smoothing factor, in (0, 1].</param>
    /// <param name="minSamples">Samples needed before a z-score is given (at least 1).</param>
    /// <param name="minStandardDeviation">The floor of the standard deviation (greater than 0).</param>
    /// <returns>The z-score before the update; NaN when the value is not finite or the baseline is still warming up.</returns>
    internal double ZScoreThenUpdate(double value, double alpha, long minSamples, double minStandardDeviation)
    {
        if (!double.IsFinite(value))
        {
            return double.NaN;
        }

        long count = Count;
        double variance = Variance;
        double d = value - Mean;
        double z = count < Math.Max(1, minSamples) ? double.NaN : d / Math.Max(Math.Sqrt(variance), minStandardDeviation);
        count++;
        double a = Weight(alpha, count);
        Count = count;
        Mean += a * d;
        Variance = (1 - a) * (variance + (a * d * d));
        return z;
    }

    /// <summary>
    /// <c>max(alpha, 1 / n)</c> without the division once <c>n alpha &gt; 1</c>: then <c>1 / n &lt; alpha</c> exactly,
    /// and the correctly rounded quotient is at most <c>alpha</c>, so the maximum is <c>alpha</c> either way.
    /// </summary>
    private static double Weight(double alpha, long count) => count * alpha > 1 ? alpha : Math.Max(alpha, 1.0 / count);
}
