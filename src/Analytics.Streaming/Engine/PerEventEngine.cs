using System.Buffers;

namespace Analytics.Streaming;

/// <summary>
/// The engine of a pipeline without windows (<c>PerEvent()</c>): every event the operators keep is a result of its own,
/// emitted with its batch. Its key is the record's source position and its window the instant of its event time, so
/// its identity is deterministic and a replay after a restart writes the same results again.
/// </summary>
/// <remarks>
/// No window is ever open, so nothing is late and the checkpoint's window state is empty: a partition resumes right
/// after the last record processed, on event time and on processing time alike.
/// </remarks>
internal sealed class PerEventEngine<TSource, TEvent, TChain> : WindowEngine<TSource, StreamPosition, TEvent>
    where TChain : struct, IEventChain<TSource, TEvent>
{
    private readonly string _pipeline;
    private readonly string? _partition;
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TChain _chain;
#pragma warning restore IDE0044

    public PerEventEngine(ProcessorSettings<TSource, StreamPosition> settings, TChain chain)
        : base(settings)
    {
        _chain = chain;
        _pipeline = settings.PipelineName;
        _partition = settings.Partition;
    }

    public override long OpenWindowCount => 0;

    internal override bool CanSnapshotState => true;

    private protected override string StateFingerprint => "per-event";

    private protected override long DoneBeforeTicks => long.MaxValue;

    private protected override void Assign<TSlot>(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, StreamPosition, TEvent> output, int start)
    {
        var records = batch.Records.Span;
        ref var tally = ref Tally;
        for (int i = start; i < records.Length; i++)
        {
            tally.Cursor = i;
            ref readonly var record = ref records[i];
            long ticks = nowTicks;
            if (!_chain.TryApply<TSlot>(in record.ValueRef, ref ticks, out TEvent value))
            {
                tally.Filtered++;
                continue;
            }

            if (!IsValidTime(ticks, nowTicks))
            {
                RejectTime(batch, record, ticks, nowTicks, output);
                tally.DeadLetters++;
                continue;
            }

            var position = new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence);
            Emit(output, new WindowResult<StreamPosition, TEvent>(_pipeline, position, new TimeWindow(ticks, ticks + 1), value) { RecordCount = 1, Partition = _partition });
            tally.MaxEventTicks = Math.Max(tally.MaxEventTicks, ticks);
        }
    }

    private protected override bool ThrowsOn(in StreamRecord<TSource> record, long clockTicks)
    {
        try
        {
            long ticks = clockTicks;
            _chain.TryApply<ProfileSlots.Slot0>(in record.ValueRef, ref ticks, out _);
            return false;
        }
#pragma warning disable CA1031 // Any exception of user code on this record makes it a dead letter.
        catch (Exception)
        {
            return true;
        }
#pragma warning restore CA1031
    }

    // Replays were delivered before the checkpoint: nothing to rebuild.
    private protected override void Rebuild<TSlot>(RecordBatch<TSource> batch, int start, int count)
    {
    }

    private protected override void EmitDirty(IWindowOutput<TSource, StreamPosition, TEvent> output)
    {
    }

    private protected override void OnWatermark(long before, long after, IWindowOutput<TSource, StreamPosition, TEvent> output)
    {
    }

    private protected override void WriteState(IBufferWriter<byte> destination)
    {
    }

    private protected override void ReadState(ref ReadOnlySpan<byte> source)
    {
    }
}
