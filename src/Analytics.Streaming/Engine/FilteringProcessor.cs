namespace Analytics.Streaming;

/// <summary>A processor whose results pass a filter before they reach the outputs (<c>Where</c> after the last window stage).</summary>
internal sealed class FilteringProcessor<TSource, TKey, TResult>(WindowProcessor<TSource, TKey, TResult> inner, Func<WindowResult<TKey, TResult>, bool> predicate)
    : WrappingProcessor<TSource, TSource, TKey, TResult>(inner)
{
    private readonly Filter _filter = new(predicate);

    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        var receipt = Inner.Process(batch, _filter.To(output));
        return receipt with { ResultsEmitted = _filter.Passed };
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output)
    {
        Inner.AdvanceTime(_filter.To(output));
        return _filter.Passed;
    }

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        Inner.AdvanceWatermark(watermark, _filter.To(output));
        return _filter.Passed;
    }

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output)
    {
        Inner.Complete(_filter.To(output));
        return _filter.Passed;
    }

    private sealed class Filter(Func<WindowResult<TKey, TResult>, bool> predicate) : IWindowOutput<TSource, TKey, TResult>
    {
        private IWindowOutput<TSource, TKey, TResult> _target = null!;

        public int Passed { get; private set; }

        public Filter To(IWindowOutput<TSource, TKey, TResult> target)
        {
            _target = target;
            Passed = 0;
            return this;
        }

        public void OnResult(in WindowResult<TKey, TResult> result)
        {
            if (predicate(result))
            {
                Passed++;
                _target.OnResult(result);
            }
        }

        public void OnLateRecord(in LateRecord<TSource> record) => _target.OnLateRecord(record);

        public void OnDeadLetter(DeadLetter deadLetter) => _target.OnDeadLetter(deadLetter);
    }
}
