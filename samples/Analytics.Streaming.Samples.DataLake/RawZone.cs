using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.Samples.DataLake;

/// <summary>
/// The raw zone's columns: the CSV values as the data sets define them. Measurements are DECIMAL with the number of
/// decimals of their CSV column (a value read with more is rounded half to even to that many), times are
/// milliseconds, so the files hold what the CSV said rather than the nearest binary doubles, and take far fewer bytes.
/// </summary>
public static class RawZone
{
    /// <summary>Gets the map of <c>raw/sensor_readings</c>.</summary>
    public static ParquetRecordMap<SensorReading> Sensors { get; } = ParquetRecordMap.For<SensorReading>()
        .String("machine_id", r => r.MachineId, nullable: false)
        .Timestamp("timestamp", r => r.Timestamp, ParquetTimestampUnit.Milliseconds)
        .Decimal("temperature", 5, 1, r => Scaled(r.Temperature, 1))
        .Decimal("vibration", 5, 2, r => Scaled(r.Vibration, 2))
        .Decimal("humidity", 3, 0, r => Scaled(r.Humidity, 0))
        .Decimal("pressure", 6, 1, r => Scaled(r.Pressure, 1))
        .Decimal("energy_consumption", 6, 1, r => Scaled(r.EnergyConsumption, 1))
        .String("machine_status", r => r.MachineStatus, nullable: false)
        .Boolean("anomaly_flag", r => r.AnomalyFlag)
        .Decimal("predicted_remaining_life", 7, 0, r => Scaled(r.PredictedRemainingLife, 0))
        .String("failure_type", r => r.FailureType, nullable: false)
        .Decimal("downtime_risk", 3, 2, r => Scaled(r.DowntimeRisk, 2))
        .Boolean("maintenance_required", r => r.MaintenanceRequired)
        .Build();

    /// <summary>Gets the map of <c>raw/customer_purchases</c>.</summary>
    public static ParquetRecordMap<Purchase> Purchases { get; } = ParquetRecordMap.For<Purchase>()
        .String("customer_id", p => p.CustomerId, nullable: false)
        .Timestamp("timestamp", p => p.Timestamp, ParquetTimestampUnit.Milliseconds)
        .Int32("age", p => p.Age)
        .String("gender", p => p.Gender, nullable: false)
        .String("income_level", p => p.IncomeLevel, nullable: false)
        .String("education", p => p.Education, nullable: false)
        .String("location", p => p.Location, nullable: false)
        .String("purchase_category", p => p.PurchaseCategory, nullable: false)
        .Decimal("purchase_amount", 9, 2, p => Scaled(p.PurchaseAmount, 2))
        .Int32("frequency_of_purchase", p => p.FrequencyOfPurchase)
        .String("purchase_channel", p => p.PurchaseChannel, nullable: false)
        .Int32("brand_loyalty", p => p.BrandLoyalty)
        .Decimal("product_rating", 3, 1, p => Scaled(p.ProductRating, 1))
        .Decimal("time_spent_on_research", 6, 1, p => Scaled(p.TimeSpentOnResearch, 1))
        .Int32("customer_satisfaction", p => p.CustomerSatisfaction)
        .Decimal("return_rate", 3, 2, p => Scaled(p.ReturnRate, 2))
        .Build();

    private static decimal Scaled(double value, int decimals) => Math.Round((decimal)value, decimals, MidpointRounding.ToEven);
}
