namespace Analytics.Streaming.Scoring;

/// <summary>Why an anomaly result has (or lacks) a score.</summary>
public enum AnomalyStatus
{
    /// <summary>The input was scored.</summary>
    Scored = 0,

    /// <summary>Too little history yet; the score is 0 and never an anomaly.</summary>
    WarmingUp,

    /// <summary>The input had NaN or infinite values; it was not scored and did not change the state.</summary>
    Missing,
}

/// <summary>The result of an anomaly detector for one input.</summary>
/// <param name="Score">The anomaly score (a z-score magnitude for <see cref="EwmaZScoreDetector"/>, a forest score for <see cref="RandomCutForest"/>).</param>
/// <param name="IsAnomaly">Whether the score reached the detector's threshold.</param>
/// <param name="Status">Whether the input was scored.</param>
public readonly record struct AnomalyResult(double Score, bool IsAnomaly, AnomalyStatus Status);

/// <summary>
/// A streaming anomaly detector for one metric: the z-score of each value against an exponentially weighted
/// mean and variance of the values before it. A mutable struct (about 48 bytes) kept per key by the caller.
/// </summary>
/// <remarks>
/// <para>
/// For each finite value x: <c>z = (x - mean) / max(sd, minStandardDeviation)</c> against the state before x;
/// an anomaly when <c>|z| &gt;= threshold</c> (default 3) once <c>warmUp</c> values (default 30) have been seen. The
/// state is then updated with x, winsorized to <c>mean +- threshold sd</c> so that one spike does not blind the
/// detector to the next (set <c>winsorize</c> to false to learn raw values).
/// </para>
/// <para>
/// NaN and infinities give <see cref="AnomalyStatus.Missing"/> and leave the state unchanged; nothing throws.
/// Deterministic and allocation-free. Not thread-safe: one key, one thread at a time.
/// </para>
/// </remarks>
public struct EwmaZScoreDetector
{
    // The smoothing of the default half-life (50), for a detector made with default(...) or new(): computed once, not
    // per value (Math.Pow was most of an update's cost).
    private static readonly double DefaultAlpha = RollingBaseline.AlphaFromHalfLife(50);

    private readonly double _alpha;
    private readonly double _threshold;
    private readonly int _warmUp;
    private readonly double _minStandardDeviation;
    private readonly bool _winsorize;
    private RollingBaseline _baseline;

    /// <summary>Initializes a detector.</summary>
    /// <param name="halfLife">The half-life of the mean and variance, in values (default 50).</param>
    /// <param name="threshold">The |z| at which a value is an anomaly (default 3).</param>
    /// <param name="warmUp">Values seen before any anomaly is reported (default 30; at least 2 are always needed for a deviation, so 0 and 1 act as 2).</param>
    /// <param name="minStandardDeviation">The floor of the standard deviation (default 1e-9).</param>
    /// <param name="winsorize">Whether to clip values to the threshold band before learning them (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public EwmaZScoreDetector(double halfLife = 50, double threshold = 3, int warmUp = 30, double minStandardDeviation = 1e-9, bool winsorize = true)
    {
        if (!(halfLife >= 1) || double.IsInfinity(halfLife))
        {
            throw new ArgumentOutOfRangeException(nameof(halfLife), halfLife, "The half-life must be a finite number of values, at least 1 (default 50).");
        }

        if (!(threshold > 0) || double.IsInfinity(threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be a positive z-score (default 3).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(warmUp);
        if (!(minStandardDeviation > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minStandardDeviation), minStandardDeviation, "The minimum standard deviation must be positive.");
        }

        _alpha = RollingBaseline.AlphaFromHalfLife(halfLife);
        _threshold = threshold;
        _warmUp = Math.Max(2, warmUp);
        _minStandardDeviation = minStandardDeviation;
        _winsorize = winsorize;
        _baseline = default;
    }

    /// <summary>Gets the baseline learned so far.</summary>
    public readonly RollingBaseline Baseline => _baseline;

    /// <summary>Scores a value against the values before it, then learns it.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The result: score |z|, anomaly flag, status.</returns>
    public AnomalyResult Update(double value)
    {
        if (!double.IsFinite(value))
        {
            return new AnomalyResult(0, false, AnomalyStatus.Missing);
        }

        double alpha = _alpha == 0 ? DefaultAlpha : _alpha;
        double threshold = _threshold == 0 ? 3 : _threshold;
        double floor = _minStandardDeviation == 0 ? 1e-9 : _minStandardDeviation;
        int warmUp = _warmUp == 0 ? 30 : _warmUp;
        if (_baseline.Count < warmUp)
        {
            _baseline.Update(value, alpha);
            return new AnomalyResult(0, false, AnomalyStatus.WarmingUp);
        }

        double sd = Math.Max(_baseline.StandardDeviation, floor);
        double z = (value - _baseline.Mean) / sd;
        double learned = _winsorize || _threshold == 0
            ? Math.Clamp(value, _baseline.Mean - (threshold * sd), _baseline.Mean + (threshold * sd))
            : value;
        _baseline.Update(learned, alpha);
        double magnitude = Math.Abs(z);
        return new AnomalyResult(magnitude, magnitude >= threshold, AnomalyStatus.Scored);
    }
}
