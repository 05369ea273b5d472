using System.Globalization;
using System.Text;

namespace Analytics.Streaming.Samples.DataLake;

/// <summary>
/// Writes the two input files with the data sets' column layouts (the data sets themselves are not shipped): seeded, so
/// the same arguments give the same bytes. Distributions (documented in the README):
/// </summary>
/// <remarks>
/// <para>
/// <b>Sensor readings</b>: 50 machines, one reading each every 5 minutes from 2025-01-06 00:00 UTC (machine n offset by
/// 3n seconds), rows in time order. Per machine a base temperature ~ N(70, 5) °C, vibration ~ N(3, 0.5) mm/s,
/// energy ~ N(12, 2) kW; each reading adds noise N(0, 1.5), N(0, 0.3), N(0, 0.5); humidity ~ N(45, 5) %, pressure
/// ~ N(101, 2) kPa. A machine starts a degradation episode with probability 0.0005 per reading, lasting 6 to 24
/// readings: temperature +15 to +25, vibration ×2 to ×3, energy +30%, anomaly flag, failure type, status <c>Fault</c>,
/// remaining life 5 to 48 h and downtime risk 0.6 to 0.95 (otherwise 200 to 1,500 h and 0 to 0.2). Status is
/// otherwise <c>Running</c> (96%) or <c>Idle</c>.
/// </para>
/// <para>
/// <b>Purchases</b>: rows in time order over the same 7 days; one customer per five rows (20,000 for 100,000 rows),
/// picked as <c>floor(customers × u²)</c> so that low ids buy far more often. Per customer: age U(18, 70), gender,
/// income Low 30% / Middle 50% / High 20%, education, city, purchases a month 1 to 20, brand loyalty 1 to 5, return
/// rate U(0, 0.3). Per purchase: amount lognormal with median 40 USD × (0.6 low, 1 middle, 2 high income), σ 0.8,
/// capped at 5,000; category, channel Online 60% / In-Store 30% / Mixed 10%, rating 1.0 to 5.0, research hours
/// lognormal (median 1.5), satisfaction 1 to 10.
/// </para>
/// <para>
/// <b>Bad rows</b>: 0.5% of the rows of each file, in five kinds: a value that is not a number (<c>N/A</c>), a row
/// cut short, an empty id, a timestamp that is not a date, and a value out of range (negative vibration or amount).
/// </para>
/// </remarks>
public static class CsvGenerator
{
    /// <summary>The sensor file's header.</summary>
    public const string SensorHeader = "machine_id,timestamp,temperature,vibration,humidity,pressure,energy_consumption,machine_status,anomaly_flag,predicted_remaining_life,failure_type,downtime_risk,maintenance_required";

    /// <summary>The purchase file's header.</summary>
    public const string PurchaseHeader = "customer_id,timestamp,age,gender,income_level,education,location,purchase_category,purchase_amount,frequency_of_purchase,purchase_channel,brand_loyalty,product_rating,time_spent_on_research,customer_satisfaction,return_rate";

    /// <summary>The first reading's time.</summary>
    public static readonly DateTimeOffset Start = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    private const int Machines = 50;
    private const double BadRowShare = 0.005;
    private static readonly string[] FailureTypes = ["Overheating", "Bearing Wear", "Electrical Fault"];
    private static readonly string[] Genders = ["Male", "Female", "Non-binary"];
    private static readonly string[] Educations = ["High School", "Bachelor's", "Master's", "PhD"];
    private static readonly string[] Cities = ["Austin", "Berlin", "Chicago", "Lagos", "London", "Mumbai", "Paris", "Sao Paulo", "Seoul", "Sydney", "Tokyo", "Toronto"];
    private static readonly string[] Categories = ["Electronics", "Clothing", "Groceries", "Home", "Beauty", "Sports", "Books", "Toys"];

    /// <summary>Writes <paramref name="rows"/> sensor rows (bad rows included) to <paramref name="path"/>.</summary>
    public static void WriteSensorReadings(string path, int rows, int seed = 1)
    {
        var random = new Random(seed);
        var machines = new MachineState[Machines];
        for (int m = 0; m < Machines; m++)
        {
            machines[m] = new MachineState(Normal(random, 70, 5), Math.Max(0.5, Normal(random, 3, 0.5)), Math.Max(2, Normal(random, 12, 2)));
        }

        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write(SensorHeader);
        writer.Write('\n');
        var line = new StringBuilder(160);
        for (int i = 0; i < rows; i++)
        {
            int m = i % Machines;
            var machine = machines[m];
            var time = Start.AddMinutes(5.0 * (i / Machines)).AddSeconds(3 * m);
            if (machine.EpisodeLeft == 0 && random.NextDouble() < 0.0005)
            {
                machine.EpisodeLeft = random.Next(6, 25);
                machine.Failure = FailureTypes[random.Next(FailureTypes.Length)];
            }

            bool episode = machine.EpisodeLeft > 0;
            double temperature = machine.Temperature + Normal(random, 0, 1.5) + (episode ? 15 + (random.NextDouble() * 10) : 0);
            double vibration = (machine.Vibration + Normal(random, 0, 0.3)) * (episode ? 2 + random.NextDouble() : 1);
            double energy = (machine.Energy + Normal(random, 0, 0.5)) * (episode ? 1.3 : 1);
            double humidity = Math.Clamp(Normal(random, 45, 5), 10, 95);
            double pressure = Normal(random, 101, 2);
            string status = episode ? "Fault" : random.NextDouble() < 0.96 ? "Running" : "Idle";
            double life = episode ? 5 + (random.NextDouble() * 43) : 200 + (random.NextDouble() * 1300);
            double risk = episode ? 0.6 + (random.NextDouble() * 0.35) : random.NextDouble() * 0.2;
            if (episode)
            {
                machine.EpisodeLeft--;
            }

            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"MCH-{m + 1:D3},{time:yyyy-MM-dd'T'HH:mm:ss'Z'},{temperature:F1},{Math.Max(0.01, vibration):F2},{humidity:F0},{pressure:F1},{energy:F1},{status},{(episode ? 1 : 0)},{life:F0},{(episode ? machine.Failure : "None")},{risk:F2},{(episode || risk > 0.5 ? 1 : 0)}");
            writer.Write(Spoil(line.ToString(), random, vibrationOrAmountColumn: 3));
            writer.Write('\n');
        }
    }

    /// <summary>Writes <paramref name="rows"/> purchase rows (bad rows included) to <paramref name="path"/>.</summary>
    public static void WritePurchases(string path, int rows, int seed = 2)
    {
        var random = new Random(seed);
        int customers = Math.Max(1, rows / 5);
        var profiles = new CustomerProfile[customers];
        for (int c = 0; c < customers; c++)
        {
            double income = random.NextDouble();
            profiles[c] = new CustomerProfile(
                random.Next(18, 71),
                Genders[random.Next(Genders.Length)],
                income < 0.3 ? "Low" : income < 0.8 ? "Middle" : "High",
                Educations[random.Next(Educations.Length)],
                Cities[random.Next(Cities.Length)],
                random.Next(1, 21),
                random.Next(1, 6),
                Math.Round(random.NextDouble() * 0.3, 2));
        }

        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write(PurchaseHeader);
        writer.Write('\n');
        var line = new StringBuilder(200);
        double span = TimeSpan.FromDays(7).TotalSeconds;
        for (int i = 0; i < rows; i++)
        {
            double u = random.NextDouble();
            int c = Math.Min(customers - 1, (int)(customers * u * u));
            var p = profiles[c];
            var time = Start.AddSeconds(Math.Floor(span * i / rows));
            double factor = p.Income switch { "Low" => 0.6, "High" => 2.0, _ => 1.0 };
            double amount = Math.Min(5000, Math.Exp(Math.Log(40 * factor) + Normal(random, 0, 0.8)));
            double channel = random.NextDouble();
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"CUST-{c + 1:D5},{time:yyyy-MM-dd'T'HH:mm:ss'Z'},{p.Age},{p.Gender},{p.Income},{p.Education},{p.City},{Categories[random.Next(Categories.Length)]},{amount:F2},{p.Frequency},{(channel < 0.6 ? "Online" : channel < 0.9 ? "In-Store" : "Mixed")},{p.Loyalty},{1 + (random.Next(41) / 10.0):F1},{Math.Exp(Math.Log(1.5) + Normal(random, 0, 0.6)):F1},{random.Next(1, 11)},{p.ReturnRate:F2}");
            writer.Write(Spoil(line.ToString(), random, vibrationOrAmountColumn: 8));
            writer.Write('\n');
        }
    }

    /// <summary>Turns 0.5% of the rows into bad rows of five kinds.</summary>
    private static string Spoil(string row, Random random, int vibrationOrAmountColumn)
    {
        if (random.NextDouble() >= BadRowShare)
        {
            return row;
        }

        string[] columns = row.Split(',');
        switch (random.Next(5))
        {
            case 0:
                columns[2] = "N/A";
                break;
            case 1:
                return string.Join(',', columns[..^4]);
            case 2:
                columns[0] = string.Empty;
                break;
            case 3:
                columns[1] = "not-a-date";
                break;
            default:
                columns[vibrationOrAmountColumn] = "-" + columns[vibrationOrAmountColumn];
                break;
        }

        return string.Join(',', columns);
    }

    private static double Normal(Random random, double mean, double sd)
        => mean + (sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    private sealed class MachineState(double temperature, double vibration, double energy)
    {
        public double Temperature { get; } = temperature;

        public double Vibration { get; } = vibration;

        public double Energy { get; } = energy;

        public int EpisodeLeft { get; set; }

        public string Failure { get; set; } = "None";
    }

    private sealed record CustomerProfile(int Age, string Gender, string Income, string Education, string City, int Frequency, int Loyalty, double ReturnRate);
}
