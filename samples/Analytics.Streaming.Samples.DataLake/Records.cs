namespace Analytics.Streaming.Samples.DataLake;

/// <summary>One row of the smart-manufacturing data set: a machine's sensor reading.</summary>
/// <param name="MachineId">The machine, <c>MCH-001</c> to <c>MCH-050</c>.</param>
/// <param name="Timestamp">When the reading was taken (UTC).</param>
/// <param name="Temperature">Degrees Celsius.</param>
/// <param name="Vibration">Millimetres per second (RMS).</param>
/// <param name="Humidity">Percent relative humidity.</param>
/// <param name="Pressure">Kilopascals.</param>
/// <param name="EnergyConsumption">Kilowatts.</param>
/// <param name="MachineStatus"><c>Running</c>, <c>Idle</c> or <c>Fault</c>.</param>
/// <param name="AnomalyFlag">Whether the plant's own monitor flagged the reading.</param>
/// <param name="PredictedRemainingLife">Hours of useful life left, as predicted by the plant.</param>
/// <param name="FailureType"><c>None</c>, <c>Overheating</c>, <c>Bearing Wear</c> or <c>Electrical Fault</c>.</param>
/// <param name="DowntimeRisk">Probability of downtime, 0 to 1.</param>
/// <param name="MaintenanceRequired">Whether maintenance was requested.</param>
public sealed record SensorReading(
    string MachineId,
    DateTimeOffset Timestamp,
    double Temperature,
    double Vibration,
    double Humidity,
    double Pressure,
    double EnergyConsumption,
    string MachineStatus,
    bool AnomalyFlag,
    double PredictedRemainingLife,
    string FailureType,
    double DowntimeRisk,
    bool MaintenanceRequired);

/// <summary>One row of the e-commerce consumer-behaviour data set: a purchase with its customer's profile.</summary>
/// <param name="CustomerId">The customer, <c>CUST-00001</c> onwards.</param>
/// <param name="Timestamp">When the purchase was made (UTC).</param>
/// <param name="Age">Years.</param>
/// <param name="Gender"><c>Male</c>, <c>Female</c> or <c>Non-binary</c>.</param>
/// <param name="IncomeLevel"><c>Low</c>, <c>Middle</c> or <c>High</c>.</param>
/// <param name="Education"><c>High School</c>, <c>Bachelor's</c>, <c>Master's</c> or <c>PhD</c>.</param>
/// <param name="Location">City.</param>
/// <param name="PurchaseCategory">Product category.</param>
/// <param name="PurchaseAmount">Amount paid (USD, cents).</param>
/// <param name="FrequencyOfPurchase">Purchases per month the customer reports.</param>
/// <param name="PurchaseChannel"><c>Online</c>, <c>In-Store</c> or <c>Mixed</c>.</param>
/// <param name="BrandLoyalty">1 to 5.</param>
/// <param name="ProductRating">1.0 to 5.0.</param>
/// <param name="TimeSpentOnResearch">Hours spent researching the product.</param>
/// <param name="CustomerSatisfaction">1 to 10.</param>
/// <param name="ReturnRate">Share of the customer's orders returned, 0 to 1.</param>
public sealed record Purchase(
    string CustomerId,
    DateTimeOffset Timestamp,
    int Age,
    string Gender,
    string IncomeLevel,
    string Education,
    string Location,
    string PurchaseCategory,
    double PurchaseAmount,
    int FrequencyOfPurchase,
    string PurchaseChannel,
    int BrandLoyalty,
    double ProductRating,
    double TimeSpentOnResearch,
    int CustomerSatisfaction,
    double ReturnRate);

/// <summary>A sensor reading with the maintenance priority the consumer gave it (the processed zone).</summary>
/// <param name="MachineId">The machine.</param>
/// <param name="Timestamp">When the reading was taken.</param>
/// <param name="Temperature">Degrees Celsius.</param>
/// <param name="Vibration">Millimetres per second.</param>
/// <param name="EnergyConsumption">Kilowatts.</param>
/// <param name="Priority">Maintenance priority, 0 to 1 (Scoring package, against the machine's own baseline).</param>
/// <param name="Band"><c>Low</c>, <c>Medium</c>, <c>High</c> or <c>Critical</c>.</param>
/// <param name="TopFactor">The largest contributor to the priority.</param>
public sealed record ScoredReading(string MachineId, DateTimeOffset Timestamp, double Temperature, double Vibration, double EnergyConsumption, double Priority, string Band, string TopFactor);

/// <summary>A maintenance alert: a machine-hour whose highest priority reached the high band (the analytics zone).</summary>
/// <param name="MachineId">The machine.</param>
/// <param name="HourStart">The start of the hour (UTC).</param>
/// <param name="Readings">Readings in the hour.</param>
/// <param name="MaxPriority">The highest priority in the hour.</param>
/// <param name="AverageTemperature">The hour's average temperature.</param>
public sealed record MachineHour(string MachineId, DateTimeOffset HourStart, long Readings, double MaxPriority, double AverageTemperature);

/// <summary>A customer's value (the analytics zone).</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="Purchases">Purchases in the data.</param>
/// <param name="Spend">Total spend.</param>
/// <param name="Value">Customer value, 0 to 1 (Scoring package).</param>
/// <param name="Segment"><c>high-value</c> for the top 8% by value, else <c>other</c>.</param>
public sealed record CustomerValueRow(string CustomerId, long Purchases, double Spend, double Value, string Segment);

/// <summary>The cross-domain summary of one day (the analytics zone).</summary>
/// <param name="Day">The day (UTC midnight).</param>
/// <param name="Readings">Sensor readings.</param>
/// <param name="AveragePriority">Average maintenance priority.</param>
/// <param name="HighPriorityReadings">Readings in the high or critical band.</param>
/// <param name="Purchases">Purchases.</param>
/// <param name="Revenue">Revenue.</param>
/// <param name="IntegratedScore">0.5 × (1 − average priority) + 0.5 × revenue ÷ the best day's revenue: operations health and sales in one number, 0 to 1.</param>
public sealed record DailySummary(DateTimeOffset Day, long Readings, double AveragePriority, long HighPriorityReadings, long Purchases, double Revenue, double IntegratedScore);
