using System.Globalization;

namespace Analytics.Streaming.Scoring;

/// <summary>How a feature's raw value becomes a risk (or value) in [0, 1].</summary>
public enum NormalizationKind
{
    /// <summary>The raw value is already in [0, 1]; it is clamped.</summary>
    Identity = 0,

    /// <summary><c>(x - min) / (max - min)</c>, clamped to [0, 1].</summary>
    MinMax,

    /// <summary><c>1 / (1 + exp(-steepness (x - midpoint)))</c>.</summary>
    Logistic,

    /// <summary>
    /// <c>|z| / zAtMax</c> clamped to [0, 1], where z is the value's z-score against the entity's
    /// <see cref="RollingBaseline"/> (two-sided: far below the baseline is as abnormal as far above).
    /// </summary>
    ZScore,
}

/// <summary>What to do when a feature's value is missing (NaN, infinite, or its baseline still warming up).</summary>
public enum MissingValuePolicy
{
    /// <summary>Leave the feature out and share its weight among the present features (the default).</summary>
    Redistribute = 0,

    /// <summary>Count the feature as 0 (no risk, no value).</summary>
    Zero,

    /// <summary>Count the feature as 1 (assume the worst).</summary>
    Worst,
}

/// <summary>A normalization with its parameters; see <see cref="NormalizationKind"/> for the formulas.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="A">min (MinMax), midpoint (Logistic) or zAtMax (ZScore).</param>
/// <param name="B">max (MinMax) or steepness (Logistic).</param>
public readonly record struct Normalization(NormalizationKind Kind, double A, double B)
{
    /// <summary>Gets the identity normalization (value clamped to [0, 1]).</summary>
    public static Normalization Identity => new(NormalizationKind.Identity, 0, 1);

    /// <summary>Min-max scaling.</summary>
    /// <param name="min">The value mapped to 0.</param>
    /// <param name="max">The value mapped to 1 (must be greater than <paramref name="min"/>).</param>
    /// <returns>The normalization.</returns>
    public static Normalization MinMax(double min, double max) => new(NormalizationKind.MinMax, min, max);

    /// <summary>A logistic curve.</summary>
    /// <param name="midpoint">The value mapped to 0.5.</param>
    /// <param name="steepness">The slope factor, positive (higher is riskier; for lower is riskier, set <c>HigherIsBetter</c>).</param>
    /// <returns>The normalization.</returns>
    public static Normalization Logistic(double midpoint, double steepness) => new(NormalizationKind.Logistic, midpoint, steepness);

    /// <summary>The absolute z-score against a rolling baseline, divided by <paramref name="zAtMax"/>.</summary>
    /// <param name="zAtMax">The |z| that counts as full risk (default 4).</param>
    /// <returns>The normalization.</returns>
    public static Normalization ZScore(double zAtMax = 4) => new(NormalizationKind.ZScore, zAtMax, 0);

    /// <summary>Applies the normalization (ZScore expects the z-score as input).</summary>
    /// <param name="value">The raw value (or z-score).</param>
    /// <returns>The normalized value in [0, 1], or NaN when <paramref name="value"/> is not finite.</returns>
    public double Apply(double value)
    {
        if (!double.IsFinite(value))
        {
            return double.NaN;
        }

        double n = Kind switch
        {
            NormalizationKind.MinMax => (value - A) / (B - A),
            NormalizationKind.Logistic => 1 / (1 + Math.Exp(-B * (value - A))),
            NormalizationKind.ZScore => Math.Abs(value) / A,
            _ => value,
        };
        return Math.Clamp(n, 0, 1);
    }

    internal void Validate(string feature)
    {
        bool valid = Kind switch
        {
            NormalizationKind.Identity => true,
            NormalizationKind.MinMax => double.IsFinite(A) && double.IsFinite(B) && B > A,
            NormalizationKind.Logistic => double.IsFinite(A) && double.IsFinite(B) && B > 0,
            NormalizationKind.ZScore => double.IsFinite(A) && A > 0,
            _ => false,
        };
        if (!valid)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Feature '{feature}': invalid {Kind} normalization ({A}, {B}). MinMax needs max > min, Logistic a non-zero steepness, ZScore a positive zAtMax."));
        }
    }
}

/// <summary>One input of a <see cref="WeightedScoreModel"/>.</summary>
/// <param name="Name">The feature name, reported in explanations.</param>
/// <param name="Weight">The weight, 0 or more; weights are normalized to sum to 1.</param>
/// <param name="Normalization">How the raw value becomes a number in [0, 1].</param>
/// <param name="HigherIsBetter">
/// When <see langword="true"/>, the normalized value is inverted (<c>1 - n</c>), so that the feature pulls the score
/// down as it grows (for example remaining life in a risk score, return rate in a value score).
/// </param>
/// <param name="Missing">The missing-value policy.</param>
public sealed record ScoreFeature(
    string Name,
    double Weight,
    Normalization Normalization,
    bool HigherIsBetter = false,
    MissingValuePolicy Missing = MissingValuePolicy.Redistribute);

/// <summary>The share of one feature in a score.</summary>
/// <param name="Feature">The feature's index in the model (its name: <see cref="WeightedScoreModel.FeatureAt"/>).</param>
/// <param name="Normalized">The normalized value in [0, 1] that entered the score (after the missing-value policy).</param>
/// <param name="Weight">The effective weight (weights of the features that took part, summing to 1).</param>
/// <param name="Contribution"><c>Weight * Normalized</c>; the contributions add up to the score.</param>
/// <param name="IsMissing">Whether the raw value was missing.</param>
public readonly record struct FeatureContribution(int Feature, double Normalized, double Weight, double Contribution, bool IsMissing);

/// <summary>Score bands: ascending thresholds, each starting a band; scores below the first are band 0.</summary>
public sealed class ScoreBands
{
    private readonly double[] _thresholds;
    private readonly string[] _names;

    /// <summary>Initializes the bands.</summary>
    /// <param name="names">The band names, lowest first; one more than thresholds.</param>
    /// <param name="thresholds">The lower bound of each band after the first, strictly ascending, in (0, 1].</param>
    /// <exception cref="ArgumentException">The counts do not match or thresholds are not ascending in (0, 1].</exception>
    public ScoreBands(IReadOnlyList<string> names, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (names.Count != thresholds.Count + 1)
        {
            throw new ArgumentException("Give one more band name than thresholds (the lowest band has no threshold).", nameof(names));
        }

        for (int i = 0; i < thresholds.Count; i++)
        {
            if (!(thresholds[i] > 0 && thresholds[i] <= 1) || (i > 0 && !(thresholds[i] > thresholds[i - 1])))
            {
                throw new ArgumentException("Band thresholds must be strictly ascending and within (0, 1].", nameof(thresholds));
            }
        }

        _names = [.. names];
        _thresholds = [.. thresholds];
    }

    /// <summary>Gets the default four bands: low, medium from 0.25, high from 0.5, critical from 0.75.</summary>
    public static ScoreBands Default { get; } = new(["low", "medium", "high", "critical"], [0.25, 0.5, 0.75]);

    /// <summary>Gets the number of bands.</summary>
    public int Count => _names.Length;

    /// <summary>Gets a band's name.</summary>
    /// <param name="band">The band index.</param>
    /// <returns>The name.</returns>
    public string NameOf(int band) => _names[band];

    /// <summary>Gets a band's lower threshold (0 for the lowest band).</summary>
    /// <param name="band">The band index.</param>
    /// <returns>The threshold.</returns>
    public double LowerBoundOf(int band) => band == 0 ? 0 : _thresholds[band - 1];

    /// <summary>Classifies a score.</summary>
    /// <param name="score">The score; NaN is band 0.</param>
    /// <returns>The band index.</returns>
    public int Classify(double score)
    {
        int band = 0;
        while (band < _thresholds.Length && score >= _thresholds[band])
        {
            band++;
        }

        return band;
    }
}

/// <summary>The result of a weighted score.</summary>
/// <param name="Score">The score in [0, 1].</param>
/// <param name="Band">The band index (see <see cref="ScoreBands"/>).</param>
/// <param name="PresentFeatures">How many features had a value.</param>
public readonly record struct ScoreResult(double Score, int Band, int PresentFeatures);

/// <summary>
/// A composable weighted score: each feature's raw value is normalized to [0, 1] (inverted when higher is better),
/// multiplied by its weight, and summed: <c>score = sum(w_i n_i) / sum(w_i)</c> over the features that take part.
/// </summary>
/// <remarks>
/// <para>
/// Deterministic and allocation-free: <see cref="Score(ReadOnlySpan{double}, Span{RollingBaseline}, Span{FeatureContribution})"/>
/// reads raw values from a span and writes the explanation into a caller's span. Weights are normalized once; the
/// score is always in [0, 1] and the explanation's contributions add up to it. Because every normalization is
/// non-decreasing, the score is non-decreasing in each feature's risk.
/// </para>
/// <para>
/// Missing values (NaN, infinities, z-scores whose baseline is still warming up) follow each feature's
/// <see cref="MissingValuePolicy"/>; nothing throws for any value. When no feature takes part, the score is 0.
/// The model is immutable and thread-safe; baselines passed in are updated by the caller's thread.
/// </para>
/// </remarks>
public sealed class WeightedScoreModel
{
    private readonly ScoreFeature[] _features;
    private readonly double[] _weights;
    private readonly MissingValuePolicy[] _missing;
    private readonly bool[] _invert;

    /// <summary>Initializes the model and validates it.</summary>
    /// <param name="features">The features, at least one, with a positive total weight.</param>
    /// <param name="bands">The bands (default <see cref="ScoreBands.Default"/>).</param>
    /// <param name="baselineHalfLife">Half-life of z-score baselines, in samples (default 100).</param>
    /// <param name="minBaselineSamples">Samples before a z-score counts (default 10).</param>
    /// <param name="minStandardDeviation">Floor of baseline standard deviations (default 1e-9).</param>
    /// <exception cref="ArgumentException">A feature or parameter is invalid; the message names it.</exception>
    public WeightedScoreModel(
        IReadOnlyList<ScoreFeature> features,
        ScoreBands? bands = null,
        double baselineHalfLife = 100,
        long minBaselineSamples = 10,
        double minStandardDeviation = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count == 0)
        {
            throw new ArgumentException("Give at least one feature.", nameof(features));
        }

        double total = 0;
        foreach (ScoreFeature feature in features)
        {
            ArgumentNullException.ThrowIfNull(feature, nameof(features));
            if (!(feature.Weight >= 0) || double.IsInfinity(feature.Weight))
            {
                throw new ArgumentException($"Feature '{feature.Name}': the weight must be a finite number of 0 or more.", nameof(features));
            }

            feature.Normalization.Validate(feature.Name);
            total += feature.Weight;
        }

        if (!(total > 0))
        {
            throw new ArgumentException("The feature weights add up to 0; give at least one feature a positive weight.", nameof(features));
        }

        if (!(baselineHalfLife >= 1) || minBaselineSamples < 1 || !(minStandardDeviation > 0))
        {
            throw new ArgumentException("The baseline half-life must be at least 1 sample, the minimum samples at least 1 and the minimum standard deviation positive.");
        }

        _features = [.. features];
        _weights = new double[_features.Length];
        _missing = new MissingValuePolicy[_features.Length];
        _invert = new bool[_features.Length];
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] = _features[i].Weight / total;
            _missing[i] = _features[i].Missing;
            _invert[i] = _features[i].HigherIsBetter;
        }

        Bands = bands ?? ScoreBands.Default;
        BaselineAlpha = RollingBaseline.AlphaFromHalfLife(baselineHalfLife);
        MinBaselineSamples = minBaselineSamples;
        MinStandardDeviation = minStandardDeviation;
    }

    /// <summary>Gets the number of features.</summary>
    public int FeatureCount => _features.Length;

    /// <summary>Gets the bands.</summary>
    public ScoreBands Bands { get; }

    /// <summary>Gets the smoothing factor of z-score baselines.</summary>
    public double BaselineAlpha { get; }

    /// <summary>Gets the number of samples before a baseline's z-scores count.</summary>
    public long MinBaselineSamples { get; }

    /// <summary>Gets the floor of baseline standard deviations.</summary>
    public double MinStandardDeviation { get; }

    /// <summary>Gets a feature.</summary>
    /// <param name="index">The index.</param>
    /// <returns>The feature.</returns>
    public ScoreFeature FeatureAt(int index) => _features[index];

    /// <summary>Gets a feature's normalized weight (the weights sum to 1).</summary>
    /// <param name="index">The index.</param>
    /// <returns>The weight.</returns>
    public double WeightOf(int index) => _weights[index];

    /// <summary>Scores raw values; z-score features are measured against (then update) the given baselines.</summary>
    /// <param name="values">One raw value per feature; NaN for missing.</param>
    /// <param name="baselines">One baseline per feature (only z-score features use theirs); updated with each finite value after scoring.</param>
    /// <param name="explanation">Receives one contribution per feature when at least <see cref="FeatureCount"/> long; may be empty.</param>
    /// <returns>The score and band.</returns>
    /// <exception cref="ArgumentException">A span is shorter than the feature count (a programming error, not bad data).</exception>
    public ScoreResult Score(ReadOnlySpan<double> values, Span<RollingBaseline> baselines, Span<FeatureContribution> explanation)
    {
        int n = _features.Length;
        if (values.Length < n || baselines.Length < n)
        {
            throw new ArgumentException("Pass one value and one baseline per feature.", nameof(values));
        }

        Span<double> normalized = n <= 64 ? stackalloc double[n] : new double[n];
        for (int i = 0; i < n; i++)
        {
            Normalization normalization = _features[i].Normalization;
            double raw = values[i];
            if (normalization.Kind == NormalizationKind.ZScore)
            {
                double z = baselines[i].ZScore(raw, MinBaselineSamples, MinStandardDeviation);
                normalized[i] = normalization.Apply(z);
                baselines[i].Update(raw, BaselineAlpha);
            }
            else
            {
                normalized[i] = normalization.Apply(raw);
            }
        }

        return Combine(normalized, explanation);
    }

    /// <summary>Scores raw values of a model without z-score features (z-score features count as missing).</summary>
    /// <param name="values">One raw value per feature; NaN for missing.</param>
    /// <param name="explanation">Receives one contribution per feature when long enough; may be empty.</param>
    /// <returns>The score and band.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than the feature count.</exception>
    public ScoreResult Score(ReadOnlySpan<double> values, Span<FeatureContribution> explanation = default)
    {
        int n = _features.Length;
        if (values.Length < n)
        {
            throw new ArgumentException("Pass one value per feature.", nameof(values));
        }

        Span<double> normalized = n <= 64 ? stackalloc double[n] : new double[n];
        for (int i = 0; i < n; i++)
        {
            Normalization normalization = _features[i].Normalization;
            normalized[i] = normalization.Kind == NormalizationKind.ZScore ? double.NaN : normalization.Apply(values[i]);
        }

        return Combine(normalized, explanation);
    }

    /// <summary>Combines already-normalized values (NaN for missing); used by the specialized scorers.</summary>
    /// <param name="normalized">One value in [0, 1] per feature, before inversion; NaN for missing.</param>
    /// <param name="explanation">Receives one contribution per feature when long enough; may be empty.</param>
    /// <returns>The score and band.</returns>
    public ScoreResult Combine(ReadOnlySpan<double> normalized, Span<FeatureContribution> explanation)
        => Combine(normalized, explanation, default);

    /// <summary>Combines normalized values, writing each feature's contribution into <paramref name="contributions"/> when it is long enough.</summary>
    internal ScoreResult Combine(ReadOnlySpan<double> normalized, Span<FeatureContribution> explanation, Span<double> contributions)
    {
        int n = _weights.Length;
        if (normalized.Length < n)
        {
            throw new ArgumentException("Pass one normalized value per feature.", nameof(normalized));
        }

        bool explain = explanation.Length >= n;
        bool collect = contributions.Length >= n;
        ReadOnlySpan<double> weights = _weights;
        ReadOnlySpan<MissingValuePolicy> policies = _missing;
        ReadOnlySpan<bool> invert = _invert;
        double takingPart = 0;
        int present = 0;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsNaN(normalized[i]))
            {
                present++;
                takingPart += weights[i];
            }
            else if (policies[i] != MissingValuePolicy.Redistribute)
            {
                takingPart += weights[i];
            }
        }

        double scale = takingPart > 0 ? 1 / takingPart : 0;
        double score = 0;
        for (int i = 0; i < n; i++)
        {
            double value = normalized[i];
            bool missing = double.IsNaN(value);
            double weight;
            if (missing)
            {
                MissingValuePolicy policy = policies[i];
                value = policy == MissingValuePolicy.Worst ? 1 : 0;
                weight = policy == MissingValuePolicy.Redistribute ? 0 : weights[i] * scale;
            }
            else
            {
                value = Math.Clamp(value, 0, 1);
                if (invert[i])
                {
                    value = 1 - value;
                }

                weight = weights[i] * scale;
            }

            double contribution = weight * value;
            score += contribution;
            if (collect)
            {
                contributions[i] = contribution;
            }

            if (explain)
            {
                explanation[i] = new FeatureContribution(i, value, weight, contribution, missing);
            }
        }

        score = Math.Clamp(score, 0, 1);
        return new ScoreResult(score, Bands.Classify(score), present);
    }
}

/// <summary>Helpers for score explanations.</summary>
public static class ScoreExplanation
{
    /// <summary>Sorts contributions in place, largest first (ties: lower feature index first); allocation-free.</summary>
    /// <param name="contributions">The contributions.</param>
    public static void SortByContribution(Span<FeatureContribution> contributions)
    {
        for (int i = 1; i < contributions.Length; i++)
        {
            FeatureContribution current = contributions[i];
            int j = i - 1;
            while (j >= 0 && Precedes(current, contributions[j]))
            {
                contributions[j + 1] = contributions[j];
                j--;
            }

            contributions[j + 1] = current;
        }
    }

    private static bool Precedes(in FeatureContribution a, in FeatureContribution b)
        => a.Contribution > b.Contribution || (a.Contribution == b.Contribution && a.Feature < b.Feature);
}
