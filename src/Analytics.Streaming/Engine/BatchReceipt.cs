namespace Analytics.Streaming;

/// <summary>What a <see cref="WindowProcessor{TSource, TKey, TResult}"/> did with one batch.</summary>
/// <param name="PartitionId">The batch's partition.</param>
/// <param name="EndPosition">The batch's end position.</param>
/// <param name="Accepted">Records added to windows.</param>
/// <param name="Late">Records sent to the late output.</param>
/// <param name="DeadLetters">Records sent to the dead letters (including those the batch carried).</param>
/// <param name="Replayed">
/// Records read again after a restore that the restored checkpoint already covers: their results, late records and
/// dead letters were delivered before it, so they are not emitted again (without window state they rebuild the open windows).
/// </param>
/// <param name="ResultsEmitted">Window results emitted while processing the batch (including windows its watermark closed).</param>
/// <remarks>
/// Every record is counted once: <c>Accepted + Late + DeadLetters + Replayed + Filtered</c> is the batch's size. After a
/// <c>SelectMany</c> the counts are of its items instead, and a record that yields none counts once (filtered, or replayed).
/// </remarks>
public readonly record struct BatchReceipt(string PartitionId, StreamPosition? EndPosition, int Accepted, int Late, int DeadLetters, int Replayed, int ResultsEmitted)
{
    /// <summary>Gets the number of records a filter in front of the windows (<c>Where</c>, an inner <c>Enrich</c>) left out: neither errors nor late.</summary>
    public int Filtered { get; init; }

    /// <summary>Gets the number of records in the batch (dead letters included).</summary>
    public int Records => Accepted + Late + DeadLetters + Replayed + Filtered;
}
