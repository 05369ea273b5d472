namespace Analytics.Streaming;

/// <summary>
/// The processor a pipeline hands out: it remembers the records and window results its aggregators throw on (a result
/// may fail wherever windows close: in a batch, as time or the watermark moves, at the end), sets those records aside
/// when it reads them again, and lets its stages fed by windows set aside such results (<see cref="SetAsideRecords"/>).
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

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output)
    {
        try
        {
            return Inner.AdvanceTime(output);
        }
        catch (AggregationFailedException failure)
        {
            _records.Remember(failure);
            throw;
        }
    }

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        try
        {
            return Inner.AdvanceWatermark(watermark, output);
        }
        catch (AggregationFailedException failure)
        {
            _records.Remember(failure);
            throw;
        }
    }

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output)
    {
        try
        {
            return Inner.Complete(output);
        }
        catch (AggregationFailedException failure)
        {
            _records.Remember(failure);
            throw;
        }
    }
}
