using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using nietras.SeparatedValues;

namespace Analytics.Streaming.Samples.DataLake;

/// <summary>A CSV row that was not ingested: the file, its 1-based line number and why.</summary>
/// <param name="File">The file name.</param>
/// <param name="Line">The line number (the header is line 1).</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record RejectedRow(string File, int Line, string Reason);

/// <summary>Parses one CSV row; false with a reason for a bad row.</summary>
/// <typeparam name="T">The record type.</typeparam>
public delegate bool RowParser<T>(SepReader.Row row, out T? value, out string? reason);

/// <summary>
/// The CSV ingestion simulator: reads a file with Sep, turns each row into a record, and replays the records into a
/// stream (an in-process channel) at a chosen rate or as fast as possible. Bad rows are collected with their line
/// numbers and never stop the replay.
/// </summary>
public static class CsvReplayer
{
    /// <summary>Replays <paramref name="path"/> into <paramref name="output"/>, then completes it.</summary>
    /// <param name="path">The CSV file (header on line 1).</param>
    /// <param name="parse">The row parser.</param>
    /// <param name="output">The stream.</param>
    /// <param name="rowsPerSecond">The rate; 0 for as fast as possible.</param>
    /// <param name="rejected">Where bad rows are added.</param>
    /// <param name="progress">Called with the rows read so far, every 1,000 rows and at the end.</param>
    /// <param name="time">The clock of the pacing.</param>
    /// <param name="cancellationToken">Stops the replay.</param>
    /// <returns>The rows read (good and bad).</returns>
    public static async Task<long> ReplayAsync<T>(string path, RowParser<T> parse, ChannelWriter<T> output, int rowsPerSecond, List<RejectedRow> rejected, Action<long>? progress, TimeProvider time, CancellationToken cancellationToken)
    {
        string file = Path.GetFileName(path);
        long rows = 0;
        long started = time.GetTimestamp();
        try
        {
            using var reader = await Sep.Reader(o => o with { DisableColCountCheck = true }).FromFileAsync(path, cancellationToken).ConfigureAwait(false);
            while (await reader.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                rows++;
                if (Read(reader, parse, out T? value, out var bad) && value is not null)
                {
                    if (!output.TryWrite(value))
                    {
                        await output.WriteAsync(value, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    rejected.Add(new RejectedRow(file, bad.Line, bad.Reason));
                }

                if (rows % 1000 == 0)
                {
                    progress?.Invoke(rows);
                }

                if (rowsPerSecond > 0 && rows % 100 == 0)
                {
                    var due = TimeSpan.FromSeconds((double)rows / rowsPerSecond) - time.GetElapsedTime(started);
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, time, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            output.TryComplete();
        }

        progress?.Invoke(rows);
        return rows;
    }

    private static bool Read<T>(SepReader reader, RowParser<T> parse, out T? value, out (int Line, string Reason) bad)
    {
        var row = reader.Current;
        if (parse(row, out value, out string? reason))
        {
            bad = default;
            return true;
        }

        bad = (row.LineNumberFrom, reason ?? "invalid row");
        return false;
    }
}

/// <summary>The row parsers of the two files, with their validation rules (see the README).</summary>
public static class RowParsers
{
    /// <summary>Parses a sensor row: 13 columns, a machine id, an ISO-8601 UTC time, numbers in range, flags 0 or 1.</summary>
    public static bool TryParseSensor(SepReader.Row row, out SensorReading? value, out string? reason)
    {
        value = null;
        if (row.ColCount != 13)
        {
            reason = $"expected 13 columns, found {row.ColCount}";
            return false;
        }

        if (!Text(row, 0, "machine_id", out string machine, out reason)
            || !Time(row, 1, out var timestamp, out reason)
            || !Number(row, 2, "temperature", -50, 250, out double temperature, out reason)
            || !Number(row, 3, "vibration", 0, 100, out double vibration, out reason)
            || !Number(row, 4, "humidity", 0, 100, out double humidity, out reason)
            || !Number(row, 5, "pressure", 0, 1000, out double pressure, out reason)
            || !Number(row, 6, "energy_consumption", 0, 10_000, out double energy, out reason)
            || !Text(row, 7, "machine_status", out string status, out reason)
            || !Number(row, 8, "anomaly_flag", 0, 1, out double anomaly, out reason)
            || !Number(row, 9, "predicted_remaining_life", 0, 1_000_000, out double life, out reason)
            || !Text(row, 10, "failure_type", out string failure, out reason)
            || !Number(row, 11, "downtime_risk", 0, 1, out double risk, out reason)
            || !Number(row, 12, "maintenance_required", 0, 1, out double maintenance, out reason))
        {
            return false;
        }

        value = new SensorReading(machine, timestamp, temperature, vibration, humidity, pressure, energy, status, anomaly >= 0.5, life, failure, risk, maintenance >= 0.5);
        return true;
    }

    /// <summary>Parses a purchase row: 16 columns, a customer id, an ISO-8601 UTC time, numbers in range.</summary>
    public static bool TryParsePurchase(SepReader.Row row, out Purchase? value, out string? reason)
    {
        value = null;
        if (row.ColCount != 16)
        {
            reason = $"expected 16 columns, found {row.ColCount}";
            return false;
        }

        if (!Text(row, 0, "customer_id", out string customer, out reason)
            || !Time(row, 1, out var timestamp, out reason)
            || !Number(row, 2, "age", 0, 120, out double age, out reason)
            || !Text(row, 3, "gender", out string gender, out reason)
            || !Text(row, 4, "income_level", out string income, out reason)
            || !Text(row, 5, "education", out string education, out reason)
            || !Text(row, 6, "location", out string location, out reason)
            || !Text(row, 7, "purchase_category", out string category, out reason)
            || !Number(row, 8, "purchase_amount", 0, 1_000_000, out double amount, out reason)
            || !Number(row, 9, "frequency_of_purchase", 0, 1000, out double frequency, out reason)
            || !Text(row, 10, "purchase_channel", out string channel, out reason)
            || !Number(row, 11, "brand_loyalty", 1, 5, out double loyalty, out reason)
            || !Number(row, 12, "product_rating", 0, 5, out double rating, out reason)
            || !Number(row, 13, "time_spent_on_research", 0, 10_000, out double research, out reason)
            || !Number(row, 14, "customer_satisfaction", 1, 10, out double satisfaction, out reason)
            || !Number(row, 15, "return_rate", 0, 1, out double returnRate, out reason))
        {
            return false;
        }

        value = new Purchase(customer, timestamp, (int)age, gender, income, education, location, category, amount, (int)frequency, channel, (int)loyalty, rating, research, (int)satisfaction, returnRate);
        return true;
    }

    private static bool Text(SepReader.Row row, int index, string name, out string value, out string? reason)
    {
        value = row[index].ToString();
        reason = value.Length == 0 ? $"column '{name}' is empty" : null;
        return reason is null;
    }

    private static bool Time(SepReader.Row row, int index, out DateTimeOffset value, out string? reason)
    {
        var span = row[index].Span;
        if (DateTimeOffset.TryParse(span, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
        {
            reason = null;
            return true;
        }

        reason = $"column 'timestamp': '{span}' is not a date and time";
        return false;
    }

    private static bool Number(SepReader.Row row, int index, string name, double min, double max, out double value, out string? reason)
    {
        var span = row[index].Span;
        if (!double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value))
        {
            reason = $"column '{name}': '{span}' is not a number";
            return false;
        }

        if (value < min || value > max)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"column '{name}': {value} is outside [{min}, {max}]");
            return false;
        }

        reason = null;
        return true;
    }
}

/// <summary>An in-process stream read by the pipelines: one partition, records numbered from 1, batches of up to 1,000.</summary>
/// <typeparam name="T">The record type.</typeparam>
public sealed class ChannelSource<T>(ChannelReader<T> reader) : IEventSource<T>
{
    /// <inheritdoc />
    public bool CanResume => false;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AnnouncePartitions(["0"]);
        long sequence = 0;
        var buffer = new List<StreamRecord<T>>(1000);
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (buffer.Count < 1000 && reader.TryRead(out var item))
            {
                buffer.Add(new StreamRecord<T>(item, SequenceNumber.FromInt64(++sequence)));
            }

            if (buffer.Count > 0)
            {
                yield return new RecordBatch<T>("0", buffer.ToArray());
                buffer.Clear();
            }
        }

        yield return new RecordBatch<T>("0", Array.Empty<StreamRecord<T>>(), isEndOfPartition: true);
    }
}
