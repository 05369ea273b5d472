namespace Analytics.Streaming.Scoring;

/// <summary>One observation of a machine: a single event or a window's averages. NaN marks a missing field.</summary>
/// <param name="Temperature">Temperature (any unit; compared with the machine's own baseline).</param>
/// <param name="Vibration">Vibration (for example RMS mm/s).</param>
/// <param name="Pressure">Pressure.</param>
/// <param name="Humidity">Humidity.</param>
/// <param name="EnergyUse">Energy or power use.</param>
/// <param name="ErrorCount">Errors reported in the observation (0 or more).</param>
/// <param name="AnomalyFlag">1 when an upstream detector flagged the observation, 0 otherwise (values in between are a probability).</param>
/// <param name="RemainingLifeHours">Predicted remaining useful life, in hours.</param>
/// <param name="DowntimeRisk">Predicted probability of downtime, 0 to 1.</param>
public readonly record struct MachineReading(
    double Temperature,
    double Vibration,
    double Pressure,
    double Humidity,
    double EnergyUse,
    double ErrorCount = 0,
    double AnomalyFlag = 0,
    double RemainingLifeHours = double.NaN,
    double DowntimeRisk = double.NaN);

/// <summary>The features of a maintenance priority, in explanation order.</summary>
public enum MaintenanceFactor
{
    /// <summary>No factor (a score of 0).</summary>
    None = -1,

    /// <summary>Deviation of temperature from the machine's baseline.</summary>
    Temperature = 0,

    /// <summary>Deviation of vibration from the machine's baseline.</summary>
    Vibration,

    /// <summary>Deviation of pressure from the machine's baseline.</summary>
    Pressure,

    /// <summary>Deviation of humidity from the machine's baseline.</summary>
    Humidity,

    /// <summary>Deviation of energy use from the machine's baseline.</summary>
    EnergyUse,

    /// <summary>Errors reported.</summary>
    Errors,

    /// <summary>An upstream anomaly flag.</summary>
    Anomaly,

    /// <summary>Little predicted remaining life.</summary>
    RemainingLife,

    /// <summary>Predicted downtime risk.</summary>
    DowntimeRisk,
}

/// <summary>Maintenance bands.</summary>
public enum MaintenanceBand
{
    /// <summary>Below <see cref="MaintenancePriorityOptions.MediumThreshold"/>.</summary>
    Low = 0,

    /// <summary>From <see cref="MaintenancePriorityOptions.MediumThreshold"/>.</summary>
    Medium,

    /// <summary>From <see cref="MaintenancePriorityOptions.HighThreshold"/>.</summary>
    High,

    /// <summary>From <see cref="MaintenancePriorityOptions.CriticalThreshold"/>.</summary>
    Critical,
}

/// <summary>The rolling baselines of one machine's sensors; a mutable struct kept per machine by the caller.</summary>
public struct MachineBaseline
{
    internal RollingBaseline TemperatureState;
    internal RollingBaseline VibrationState;
    internal RollingBaseline PressureState;
    internal RollingBaseline HumidityState;
    internal RollingBaseline EnergyUseState;

    /// <summary>Gets the temperature baseline.</summary>
    public readonly RollingBaseline Temperature => TemperatureState;

    /// <summary>Gets the vibration baseline.</summary>
    public readonly RollingBaseline Vibration => VibrationState;

    /// <summary>Gets the pressure baseline.</summary>
    public readonly RollingBaseline Pressure => PressureState;

    /// <summary>Gets the humidity baseline.</summary>
    public readonly RollingBaseline Humidity => HumidityState;

    /// <summary>Gets the energy-use baseline.</summary>
    public readonly RollingBaseline EnergyUse => EnergyUseState;
}

/// <summary>Options of <see cref="MaintenancePriorityScorer"/>; defaults are documented on each property and in the package README.</summary>
public sealed class MaintenancePriorityOptions
{
    /// <summary>Gets or sets the weight of temperature deviation (default 0.15).</summary>
    public double TemperatureWeight { get; set; } = 0.15;

    /// <summary>Gets or sets the weight of vibration deviation (default 0.20).</summary>
    public double VibrationWeight { get; set; } = 0.20;

    /// <summary>Gets or sets the weight of pressure deviation (default 0.10).</summary>
    public double PressureWeight { get; set; } = 0.10;

    /// <summary>Gets or sets the weight of humidity deviation (default 0.05).</summary>
    public double HumidityWeight { get; set; } = 0.05;

    /// <summary>Gets or sets the weight of energy-use deviation (default 0.10).</summary>
    public double EnergyUseWeight { get; set; } = 0.10;

    /// <summary>Gets or sets the weight of errors (default 0.10).</summary>
    public double ErrorWeight { get; set; } = 0.10;

    /// <summary>Gets or sets the weight of the anomaly flag (default 0.05).</summary>
    public double AnomalyWeight { get; set; } = 0.05;

    /// <summary>Gets or sets the weight of short remaining life (default 0.15).</summary>
    public double RemainingLifeWeight { get; set; } = 0.15;

    /// <summary>Gets or sets the weight of downtime risk (default 0.10).</summary>
    public double DowntimeRiskWeight { get; set; } = 0.10;

    /// <summary>Gets or sets the |z| of a sensor deviation that counts as full risk (default 4).</summary>
    public double DeviationAtMax { get; set; } = 4;

    /// <summary>Gets or sets the error count that counts as full risk (default 5).</summary>
    public double ErrorCountAtMax { get; set; } = 5;

    /// <summary>Gets or sets the remaining life, in hours, at or above which it adds no risk (default 720, 30 days).</summary>
    public double RemainingLifeHorizonHours { get; set; } = 720;

    /// <summary>Gets or sets the half-life of each machine's baselines, in observations (default 100).</summary>
    public double BaselineHalfLife { get; set; } = 100;

    /// <summary>Gets or sets the observations before a baseline's deviations count (default 10); until then deviations are missing.</summary>
    public long MinBaselineSamples { get; set; } = 10;

    /// <summary>Gets or sets the floor of baseline standard deviations (default 1e-6).</summary>
    public double MinStandardDeviation { get; set; } = 1e-6;

    /// <summary>Gets or sets the policy for missing fields and warming baselines (default <see cref="MissingValuePolicy.Redistribute"/>).</summary>
    public MissingValuePolicy Missing { get; set; } = MissingValuePolicy.Redistribute;

    /// <summary>Gets or sets the score from which the band is medium (default 0.25).</summary>
    public double MediumThreshold { get; set; } = 0.25;

    /// <summary>Gets or sets the score from which the band is high (default 0.5).</summary>
    public double HighThreshold { get; set; } = 0.5;

    /// <summary>Gets or sets the score from which the band is critical (default 0.75).</summary>
    public double CriticalThreshold { get; set; } = 0.75;
}

/// <summary>A machine's maintenance priority.</summary>
/// <param name="Score">The priority in [0, 1].</param>
/// <param name="Band">The band.</param>
/// <param name="TopFactor">The largest contributor (<see cref="MaintenanceFactor.None"/> when the score is 0).</param>
/// <param name="SecondFactor">The second largest contributor, or None.</param>
/// <param name="ThirdFactor">The third largest contributor, or None.</param>
public readonly record struct MaintenancePriority(double Score, MaintenanceBand Band, MaintenanceFactor TopFactor, MaintenanceFactor SecondFactor, MaintenanceFactor ThirdFactor);

/// <summary>
/// Scores a machine's maintenance priority from one observation and its own rolling baseline: sensor deviations
/// (|z| against the machine's baseline, two-sided), errors, anomaly flag, short remaining life and downtime risk.
/// </summary>
/// <remarks>
/// <para>
/// Formula: <c>score = sum(w_f r_f) / sum(w_f)</c> over the features present, with
/// <c>r_sensor = min(|z| / DeviationAtMax, 1)</c>, <c>r_errors = min(errors / ErrorCountAtMax, 1)</c>,
/// <c>r_anomaly = clamp(flag)</c>, <c>r_life = 1 - min(hours / RemainingLifeHorizonHours, 1)</c>,
/// <c>r_downtime = clamp(risk)</c>. The z-score is taken against the baseline before the observation updates it.
/// Bands: low, medium, high, critical at the configured thresholds.
/// </para>
/// <para>
/// Deterministic and allocation-free; never throws for any field value (NaN, infinities and negative counts follow
/// <see cref="MaintenancePriorityOptions.Missing"/>). Immutable and thread-safe; each machine's
/// <see cref="MachineBaseline"/> must be updated by one thread at a time.
/// </para>
/// </remarks>
public sealed class MaintenancePriorityScorer
{
    /// <summary>The number of features (the length of an explanation).</summary>
    public const int FeatureCount = 9;

    private readonly WeightedScoreModel _model;
    private readonly double _inverseDeviationAtMax;
    private readonly double _errorsAtMax;
    private readonly double _lifeHorizon;

    // The model's parameters, copied for the hot path: every feature of this scorer has the identity normalization,
    // is not inverted and has the same missing-value policy, so Finish combines them without the model's per-feature arrays.
    private readonly double[] _weights;
    private readonly double _allPresentScale;
    private readonly MissingValuePolicy _missing;
    private readonly double _alpha;
    private readonly long _minSamples;
    private readonly double _minStandardDeviation;
    private readonly double _mediumThreshold;
    private readonly double _highThreshold;
    private readonly double _criticalThreshold;

    /// <summary>Initializes the scorer and validates the options.</summary>
    /// <param name="options">The options (defaults when null).</param>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    public MaintenancePriorityScorer(MaintenancePriorityOptions? options = null)
    {
        options ??= new MaintenancePriorityOptions();
        if (!(options.DeviationAtMax > 0) || !(options.ErrorCountAtMax > 0) || !(options.RemainingLifeHorizonHours > 0))
        {
            throw new ArgumentException("DeviationAtMax, ErrorCountAtMax and RemainingLifeHorizonHours must be positive (defaults 4, 5 and 720).", nameof(options));
        }

        if (!(options.MediumThreshold > 0 && options.MediumThreshold < options.HighThreshold && options.HighThreshold < options.CriticalThreshold && options.CriticalThreshold <= 1))
        {
            throw new ArgumentException("Band thresholds must satisfy 0 < Medium < High < Critical <= 1 (defaults 0.25, 0.5, 0.75).", nameof(options));
        }

        _inverseDeviationAtMax = 1 / options.DeviationAtMax;
        _errorsAtMax = options.ErrorCountAtMax;
        _lifeHorizon = options.RemainingLifeHorizonHours;
        MissingValuePolicy missing = options.Missing;
        _model = new WeightedScoreModel(
            [
                new ScoreFeature("temperature", options.TemperatureWeight, Normalization.Identity, false, missing),
                new ScoreFeature("vibration", options.VibrationWeight, Normalization.Identity, false, missing),
                new ScoreFeature("pressure", options.PressureWeight, Normalization.Identity, false, missing),
                new ScoreFeature("humidity", options.HumidityWeight, Normalization.Identity, false, missing),
                new ScoreFeature("energy-use", options.EnergyUseWeight, Normalization.Identity, false, missing),
                new ScoreFeature("errors", options.ErrorWeight, Normalization.Identity, false, missing),
                new ScoreFeature("anomaly", options.AnomalyWeight, Normalization.Identity, false, missing),
                new ScoreFeature("remaining-life", options.RemainingLifeWeight, Normalization.Identity, false, missing),
                new ScoreFeature("downtime-risk", options.DowntimeRiskWeight, Normalization.Identity, false, missing),
            ],
            new ScoreBands(["low", "medium", "high", "critical"], [options.MediumThreshold, options.HighThreshold, options.CriticalThreshold]),
            options.BaselineHalfLife,
            options.MinBaselineSamples,
            options.MinStandardDeviation);
        _weights = new double[FeatureCount];
        double total = 0;
        for (int i = 0; i < FeatureCount; i++)
        {
            _weights[i] = _model.WeightOf(i);
            total += _weights[i];
        }

        // The scale Finish computes when every feature takes part: the same sum in the same order, so the same value.
        _allPresentScale = total > 0 ? 1 / total : 0;

        _missing = missing;
        _alpha = _model.BaselineAlpha;
        _minSamples = _model.MinBaselineSamples;
        _minStandardDeviation = _model.MinStandardDeviation;
        _mediumThreshold = options.MediumThreshold;
        _highThreshold = options.HighThreshold;
        _criticalThreshold = options.CriticalThreshold;
    }

    /// <summary>Gets the underlying weighted model (feature names and normalized weights).</summary>
    public WeightedScoreModel Model => _model;

    /// <summary>Scores an observation against the machine's baseline, then updates the baseline with it.</summary>
    /// <param name="reading">The observation.</param>
    /// <param name="baseline">The machine's baselines; updated with every finite sensor value.</param>
    /// <param name="explanation">Receives the <see cref="FeatureCount"/> contributions (indexed by <see cref="MaintenanceFactor"/>) when long enough; may be empty.</param>
    /// <returns>The priority.</returns>
    public MaintenancePriority Score(in MachineReading reading, ref MachineBaseline baseline, Span<FeatureContribution> explanation = default)
    {
        Span<double> risk = stackalloc double[FeatureCount];
        risk[0] = Deviation(ref baseline.TemperatureState, reading.Temperature);
        risk[1] = Deviation(ref baseline.VibrationState, reading.Vibration);
        risk[2] = Deviation(ref baseline.PressureState, reading.Pressure);
        risk[3] = Deviation(ref baseline.HumidityState, reading.Humidity);
        risk[4] = Deviation(ref baseline.EnergyUseState, reading.EnergyUse);
        risk[5] = Ratio(reading.ErrorCount, _errorsAtMax);
        risk[6] = Ratio(reading.AnomalyFlag, 1);
        risk[7] = double.IsFinite(reading.RemainingLifeHours) ? 1 - Math.Clamp(reading.RemainingLifeHours / _lifeHorizon, 0, 1) : double.NaN;
        risk[8] = Ratio(reading.DowntimeRisk, 1);
        return Finish(risk, explanation);
    }

    /// <summary>Scores an observation without baselines (sensor deviations count as missing); for stateless use.</summary>
    /// <param name="reading">The observation.</param>
    /// <param name="explanation">Receives the contributions when long enough; may be empty.</param>
    /// <returns>The priority.</returns>
    public MaintenancePriority ScoreWithoutBaseline(in MachineReading reading, Span<FeatureContribution> explanation = default)
    {
        var none = default(MachineBaseline);
        var copy = reading with { Temperature = double.NaN, Vibration = double.NaN, Pressure = double.NaN, Humidity = double.NaN, EnergyUse = double.NaN };
        return Score(copy, ref none, explanation);
    }

    private static double Ratio(double value, double atMax)
        => double.IsFinite(value) ? Math.Clamp(value / atMax, 0, 1) : double.NaN;

    private double Deviation(ref RollingBaseline baseline, double value)
    {
        // min(|z| / DeviationAtMax, 1), with the division by the constant as a multiplication by its reciprocal
        // (identical for a power of two such as the default 4, within one rounding otherwise); NaN stays NaN.
        double z = baseline.ZScoreThenUpdate(value, _alpha, _minSamples, _minStandardDeviation);
        return double.IsNaN(z) ? double.NaN : Math.Min(Math.Abs(z) * _inverseDeviationAtMax, 1);
    }

    /// <summary>
    /// <see cref="WeightedScoreModel.Combine(ReadOnlySpan{double}, Span{FeatureContribution})"/> specialized for this
    /// scorer's features (identity normalization, not inverted, one missing-value policy), with the same arithmetic in
    /// the same order, and the three largest contributions found in the same pass.
    /// </summary>
    private MaintenancePriority Finish(ReadOnlySpan<double> risk, Span<FeatureContribution> explanation)
    {
        ReadOnlySpan<double> weights = _weights;
        if (risk.Length < FeatureCount || weights.Length < FeatureCount)
        {
            throw new ArgumentException("Pass one normalized value per feature.", nameof(risk));
        }

        bool redistribute = _missing == MissingValuePolicy.Redistribute;
        bool anyMissing = false;
        for (int i = 0; i < FeatureCount; i++)
        {
            anyMissing |= double.IsNaN(risk[i]);
        }

        double scale = _allPresentScale;
        if (redistribute && anyMissing)
        {
            double takingPart = 0;
            for (int i = 0; i < FeatureCount; i++)
            {
                if (!double.IsNaN(risk[i]))
                {
                    takingPart += weights[i];
                }
            }

            scale = takingPart > 0 ? 1 / takingPart : 0;
        }

        double missingValue = _missing == MissingValuePolicy.Worst ? 1 : 0;
        bool explain = explanation.Length >= FeatureCount;
        double score = 0;

        // The three largest positive contributions, ties to the lower factor: c1 >= c2 >= c3, factor -1 (and 0) while unset.
        double c1 = 0, c2 = 0, c3 = 0;
        int first = -1, second = -1, third = -1;
        for (int i = 0; i < FeatureCount; i++)
        {
            double value = risk[i];
            bool missing = double.IsNaN(value);
            double weight;
            if (missing)
            {
                value = missingValue;
                weight = redistribute ? 0 : weights[i] * scale;
            }
            else
            {
                value = Math.Clamp(value, 0, 1);
                weight = weights[i] * scale;
            }

            double c = weight * value;
            score += c;
            if (explain)
            {
                explanation[i] = new FeatureContribution(i, value, weight, c, missing);
            }

            if (c > c3)
            {
                if (c > c2)
                {
                    (c3, third) = (c2, second);
                    if (c > c1)
                    {
                        (c2, second) = (c1, first);
                        (c1, first) = (c, i);
                    }
                    else
                    {
                        (c2, second) = (c, i);
                    }
                }
                else
                {
                    (c3, third) = (c, i);
                }
            }
        }

        score = Math.Clamp(score, 0, 1);

        // The thresholds ascend, so the band is the number of thresholds reached (NaN reaches none): counted without branches.
        var band = (MaintenanceBand)((score >= _mediumThreshold ? 1 : 0) + (score >= _highThreshold ? 1 : 0) + (score >= _criticalThreshold ? 1 : 0));
        return new MaintenancePriority(score, band, (MaintenanceFactor)first, (MaintenanceFactor)second, (MaintenanceFactor)third);
    }
}
