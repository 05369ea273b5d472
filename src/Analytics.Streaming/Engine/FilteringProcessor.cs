namespace Analytics.Streaming;

/// <summary>
/// A processor whose results pass a filter before they reach the outputs (<c>Where</c> after the last window stage). A
/// result the filter throws on becomes a dead letter (<see cref="DeadLetterReason.SelectorFailed"/>) that carries the
/// result's id as its payload: the result is immutable once emitted, so nothing needs undoing.
/// </summary>
internal sealed class FilteringProcessor<TSource, TKey, TResult>(WindowProcessor<TSource, TKey, TResult> inner, Func<WindowResult<TKey, TResult>, bool> predicate)
    : WrappingProcessor<TSource, TSource, TKey, TResult>(inner)
{
    private readonly Filter _filter = new(predicate);

    internal override long ResultDeadLetters => Inner.ResultDeadLetters + _filter.DeadLetters;

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

        public long DeadLetters { get; private set; }

        public Filter To(IWindowOutput<TSource, TKey, TResult> target)
        {
            _target = target;
            Passed = 0;
            return this;
        }

        public void OnResult(in WindowResult<TKey, TResult> result)
        {
            bool passes;
            try
            {
                passes = predicate(result);
            }
#pragma warning disable CA1031 // The result becomes a dead letter that names the exception; the stream goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                DeadLetters++;
                string id = result.Id;
                _target.OnDeadLetter(DeadLetter.OfResult(id, DeadLetterReason.SelectorFailed, $"The Where after the last window stage threw {ex.GetType().FullName}: {ex.Message} on the result {id}."));
                return;
            }

            if (passes)
            {
                Passed++;
                _target.OnResult(result);
            }
        }

        public void OnLateRecord(in LateRecord<TSource> record) => _target.OnLateRecord(record);

        public void OnDeadLetter(DeadLetter deadLetter) => _target.OnDeadLetter(deadLetter);
    }
}
