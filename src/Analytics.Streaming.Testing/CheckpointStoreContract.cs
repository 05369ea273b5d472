namespace Analytics.Streaming.Testing;

/// <summary>
/// Checks that a checkpoint store keeps the contract the pipelines rely on for effectively-once results: what
/// <see cref="ICheckpointStore"/> and, when the store implements it, <see cref="IFencedCheckpointStore"/> document.
/// Use it to test your own store (a database, a cache) the way the library's stores are tested.
/// </summary>
/// <remarks>
/// <para>
/// The checks save real checkpoints with window state, so the store sees the bytes a pipeline would give it. Each check
/// uses pipeline names of its own that start with a prefix unique to the call, so one store (one table, one folder)
/// serves every call. The checks, each named in the exception when it fails:
/// </para>
/// <list type="bullet">
/// <item><description><c>round trip</c>: a saved checkpoint loads back byte for byte; a pipeline without one loads
/// <see langword="null"/>; names with spaces, slashes, dots and <c>#</c> keep their own checkpoints.</description></item>
/// <item><description><c>older never replaces newer</c>: a save whose id is not newer than the stored one is ignored,
/// the same id again included.</description></item>
/// <item><description><c>claim fences the old owner</c> (fenced stores): a claim alone stores no checkpoint; after a
/// claim with a higher token, the old owner's saves and claims and a save without a token throw
/// <see cref="CheckpointFencedException"/> (with the pipeline, the refused token and the stored one) and change nothing;
/// the new owner goes on saving and claims again.</description></item>
/// <item><description><c>higher token replaces a newer id</c> (fenced stores): a save with a higher token replaces even
/// a checkpoint with a higher id, and a lower token is refused from then on.</description></item>
/// </list>
/// <para>
/// The checks do not cover what depends on the medium: a write cut short, damaged data (a store must throw
/// <see cref="InvalidDataException"/> rather than start over), or several store instances on one medium (they must share
/// the fence). Test those against the store itself.
/// </para>
/// </remarks>
public static class CheckpointStoreContract
{
    /// <summary>Runs every check that applies to the store.</summary>
    /// <param name="store">The store to check; a store that also implements <see cref="IFencedCheckpointStore"/> gets the fencing checks.</param>
    /// <param name="windowStateKeys">
    /// The number of keys in the window state of the checkpoints saved, 1 or more (default 3). A few hundred give
    /// checkpoints of tens of kilobytes, for stores that split large checkpoints.
    /// </param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <returns>A task that completes when every check passed.</returns>
    /// <exception cref="CheckpointStoreContractException">A check failed; the message names it and what the store did.</exception>
    public static async Task VerifyAsync(ICheckpointStore store, int windowStateKeys = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowStateKeys, 1);
        var run = new Run(store, $"contract-{Guid.NewGuid():N}-", windowStateKeys, cancellationToken);
        await run.RoundTripAsync().ConfigureAwait(false);
        await run.OlderNeverReplacesNewerAsync().ConfigureAwait(false);
        if (store is IFencedCheckpointStore fenced)
        {
            await run.ClaimFencesTheOldOwnerAsync(fenced).ConfigureAwait(false);
            await run.HigherTokenReplacesANewerIdAsync(fenced).ConfigureAwait(false);
        }
    }

    private sealed class Run(ICheckpointStore store, string prefix, int keys, CancellationToken cancellationToken)
    {
        public async Task RoundTripAsync()
        {
            const string Check = "round trip";
            foreach (string suffix in new[] { "p", "page views/minute", "../escape#head" })
            {
                var saved = Checkpoint(suffix, keys, id: 1);
                await store.SaveAsync(saved, cancellationToken).ConfigureAwait(false);
                await ExpectStoredAsync(Check, saved).ConfigureAwait(false);
            }

            // The first one is still its own after the others with other names were saved.
            await ExpectStoredAsync(Check, Checkpoint("p", keys, id: 1)).ConfigureAwait(false);
            if (await store.LoadAsync(prefix + "none", cancellationToken).ConfigureAwait(false) is { } other)
            {
                throw Broken(Check, $"LoadAsync of a pipeline that never saved returned checkpoint {other.Id} of '{other.PipelineName}' instead of null.");
            }
        }

        public async Task OlderNeverReplacesNewerAsync()
        {
            const string Check = "older never replaces newer";
            var third = Checkpoint("order", keys, id: 3);
            await store.SaveAsync(third, cancellationToken).ConfigureAwait(false);
            await store.SaveAsync(Checkpoint("order", keys + 1, id: 1), cancellationToken).ConfigureAwait(false);
            await ExpectStoredAsync(Check, third).ConfigureAwait(false);

            // The same id again, with other contents: the stored one stays.
            await store.SaveAsync(Checkpoint("order", keys + 1, id: 3), cancellationToken).ConfigureAwait(false);
            await ExpectStoredAsync(Check, third).ConfigureAwait(false);
        }

        public async Task ClaimFencesTheOldOwnerAsync(IFencedCheckpointStore fenced)
        {
            const string Check = "claim fences the old owner";
            const string Name = "claim";
            if (await fenced.ClaimAsync(prefix + Name, 5, cancellationToken).ConfigureAwait(false) is { } early)
            {
                throw Broken(Check, $"ClaimAsync of a pipeline that never saved returned checkpoint {early.Id}.");
            }

            if (await fenced.LoadAsync(prefix + Name, cancellationToken).ConfigureAwait(false) is { } claimed)
            {
                throw Broken(Check, $"a claim alone stored checkpoint {claimed.Id}.");
            }

            await fenced.SaveAsync(Checkpoint(Name, keys, id: 1), 5, cancellationToken).ConfigureAwait(false);
            var third = Checkpoint(Name, keys, id: 3);
            await fenced.SaveAsync(third, 5, cancellationToken).ConfigureAwait(false);

            // A new owner takes over with token 9: it loads checkpoint 3 in the same step.
            var loaded = await fenced.ClaimAsync(prefix + Name, 9, cancellationToken).ConfigureAwait(false);
            if (loaded is null || !loaded.ToBytes().AsSpan().SequenceEqual(third.ToBytes()))
            {
                throw Broken(Check, $"the claim with token 9 returned {Describe(loaded)} instead of checkpoint 3.");
            }

            // The old owner has not noticed: its saves and claims are refused and change nothing.
            await ExpectFencedAsync(Check, "a save with the old token 5", () => fenced.SaveAsync(Checkpoint(Name, keys + 1, id: 4), 5, cancellationToken), Name, 5, 9).ConfigureAwait(false);
            await ExpectStoredAsync(Check, third).ConfigureAwait(false);
            await ExpectFencedAsync(Check, "a claim with the old token 5", async () => await fenced.ClaimAsync(prefix + Name, 5, cancellationToken).ConfigureAwait(false), Name, 5, 9).ConfigureAwait(false);
            await ExpectFencedAsync(Check, "a save without a token", () => fenced.SaveAsync(Checkpoint(Name, keys + 1, id: 10), cancellationToken), Name, 0, 9).ConfigureAwait(false);
            await ExpectStoredAsync(Check, third).ConfigureAwait(false);

            // The new owner continues the numbering; a save that is not newer is still ignored; it may claim again.
            var fourth = Checkpoint(Name, keys, id: 4);
            await fenced.SaveAsync(fourth, 9, cancellationToken).ConfigureAwait(false);
            await fenced.SaveAsync(Checkpoint(Name, keys + 1, id: 2), 9, cancellationToken).ConfigureAwait(false);
            var again = await fenced.ClaimAsync(prefix + Name, 9, cancellationToken).ConfigureAwait(false);
            if (again is null || !again.ToBytes().AsSpan().SequenceEqual(fourth.ToBytes()))
            {
                throw Broken(Check, $"the owner's second claim with token 9 returned {Describe(again)} instead of its checkpoint 4.");
            }
        }

        public async Task HigherTokenReplacesANewerIdAsync(IFencedCheckpointStore fenced)
        {
            const string Check = "higher token replaces a newer id";
            const string Name = "token";
            await fenced.SaveAsync(Checkpoint(Name, keys, id: 5), cancellationToken).ConfigureAwait(false);
            var second = Checkpoint(Name, keys, id: 2);
            await fenced.SaveAsync(second, 2, cancellationToken).ConfigureAwait(false);
            await ExpectStoredAsync(Check, second).ConfigureAwait(false);
            await ExpectFencedAsync(Check, "a save with the lower token 1", () => fenced.SaveAsync(Checkpoint(Name, keys, id: 7), 1, cancellationToken), Name, 1, 2).ConfigureAwait(false);
            await ExpectStoredAsync(Check, second).ConfigureAwait(false);
        }

        private async Task ExpectStoredAsync(string check, PipelineCheckpoint expected)
        {
            var loaded = await store.LoadAsync(expected.PipelineName, cancellationToken).ConfigureAwait(false);
            if (loaded is null || loaded.PipelineName != expected.PipelineName || !loaded.ToBytes().AsSpan().SequenceEqual(expected.ToBytes()))
            {
                throw Broken(check, $"LoadAsync(\"{expected.PipelineName}\") returned {Describe(loaded)} where checkpoint {expected.Id} was expected, byte for byte.");
            }
        }

        private async Task ExpectFencedAsync(string check, string what, Func<ValueTask> act, string name, long fence, long storedFence)
        {
            try
            {
                await act().ConfigureAwait(false);
            }
            catch (CheckpointFencedException ex)
            {
                if (ex.PipelineName != prefix + name || ex.Fence != fence || ex.StoredFence != storedFence)
                {
                    throw Broken(check, $"{what} was refused with pipeline '{ex.PipelineName}', token {ex.Fence} and stored token {ex.StoredFence}, instead of '{prefix + name}', {fence} and {storedFence}.");
                }

                return;
            }

            throw Broken(check, $"{what} was accepted after a claim with token {storedFence}; it must throw {nameof(CheckpointFencedException)}.");
        }

        private PipelineCheckpoint Checkpoint(string name, int stateKeys, int id)
            => CheckpointMaker.Make(prefix + name, stateKeys, id);

        private static CheckpointStoreContractException Broken(string check, string what) => new($"Checkpoint store contract, check '{check}': {what}");

        private static string Describe(PipelineCheckpoint? checkpoint)
            => checkpoint is null ? "null" : $"checkpoint {checkpoint.Id} of '{checkpoint.PipelineName}' ({checkpoint.ToBytes().Length} bytes)";
    }

    /// <summary>Real checkpoints: a count and a distinct count per key of one-minute windows, over two partitions.</summary>
    private static class CheckpointMaker
    {
        private static readonly DateTimeOffset Start = new(2026, 1, 1, 10, 0, 0, TimeSpan.Zero);

        public static PipelineCheckpoint Make(string name, int keys, int id)
        {
            var pipeline = StreamPipeline.Create<(int Key, DateTimeOffset Time)>(new() { Name = name, WindowState = WindowStateMode.Always })
                .WithEventTime(v => v.Time)
                .KeyBy(v => v.Key)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count().And(a.DistinctCount(v => v.Key)))
                .To(new CollectingSink<WindowResult<int, (long, long)>>())
                .Build();
            var driver = new PipelineTestDriver<(int, DateTimeOffset), int, (long, long)>(pipeline);
            driver.Push("shardId-000000000001", [.. Enumerable.Range(0, keys).Select(k => (k, Start.AddSeconds(k % 50)))]);
            driver.Push("shardId-000000000002", (1, Start.AddSeconds(10)));
            PipelineCheckpoint checkpoint;
            do
            {
                checkpoint = driver.CreateCheckpoint();
            }
            while (checkpoint.Id < id);

            return checkpoint;
        }
    }
}

/// <summary>A checkpoint store broke the contract <see cref="CheckpointStoreContract"/> checks; the message says how.</summary>
public sealed class CheckpointStoreContractException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointStoreContractException()
        : this("A checkpoint store broke its contract.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public CheckpointStoreContractException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckpointStoreContractException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
