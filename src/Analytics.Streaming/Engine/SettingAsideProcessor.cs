namespace Analytics.Streaming;

/// <summary>The processor a pipeline hands out: it sets aside the records its aggregators threw on before (<see cref="SetAsideRecords"/>).</summary>
internal sealed class SettingAsideProcessor<TSource, TKey, TResult>(WindowProcessor<TSource, TKey, TResult> inner, SetAsideRecords records)
    : WrappingProcessor<TSource, TSource, TKey, TResult>(inner)
{
    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        try
        {
            return Inner.Process(records.Apply(batch), output);
        }
        catch (AggregationFailedException failure)
        {
            records.Remember(failure);
            throw;
        }
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output) => Inner.AdvanceTime(output);

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output) => Inner.AdvanceWatermark(watermark, output);

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output) => Inner.Complete(output);
}
