namespace Analytics.Streaming;

/// <summary>
/// The processor a pipeline hands out: it sets aside the records its aggregators threw on before, and lets its stages
/// fed by windows set aside such results (<see cref="SetAsideRecords"/>).
/// </summary>
internal sealed class SettingAsideProcessor<TSource, TKey, TResult> : WrappingProcessor<TSource, TSource, TKey, TResult>
{
    private readonly SetAsideRecords _records;

    public SettingAsideProcessor(WindowProcessor<TSource, TKey, TResult> inner, SetAsideRecords records)
        : base(inner)
    {
        _records = records;
        inner.UseSetAside(records);
    }

    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        try
        {
            return Inner.Process(_records.Apply(batch), output);
        }
        catch (AggregationFailedException failure)
        {
            _records.Remember(failure);
            throw;
        }
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output) => Inner.AdvanceTime(output);

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output) => Inner.AdvanceWatermark(watermark, output);

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output) => Inner.Complete(output);
}
