using System.Globalization;
using System.Text;

namespace Analytics.Streaming;

/// <summary>
/// A checkpoint store in one local file: a line per partition (<c>partition sequence subSequence [end]</c>),
/// replaced atomically on every save (write to a temporary file, then rename).
/// </summary>
/// <remarks>For a single worker process; several workers sharing a stream need a lease table (DynamoDB).</remarks>
public sealed class FileCheckpointStore : ICheckpointStore, IDisposable
{
    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, Checkpoint>? _loaded;

    /// <summary>Creates a store that keeps its checkpoints in <paramref name="path"/>; the folder is created when missing.</summary>
    /// <param name="path">The file path.</param>
    public FileCheckpointStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
    }

    /// <inheritdoc />
    public async ValueTask<Checkpoint?> GetAsync(string partitionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partitionId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var all = await LoadAsync(cancellationToken).ConfigureAwait(false);
            return all.TryGetValue(partitionId, out var checkpoint) ? checkpoint : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(IReadOnlyList<Checkpoint> checkpoints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var all = await LoadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var checkpoint in checkpoints)
            {
                string id = checkpoint.Position.PartitionId;
                if (id.Any(char.IsWhiteSpace))
                {
                    throw new ArgumentException($"Partition id '{id}' contains white space, which this file format cannot hold.", nameof(checkpoints));
                }

                all[id] = all.TryGetValue(id, out var stored) ? CheckpointOrder.Newer(stored, checkpoint) : checkpoint;
            }

            var text = new StringBuilder();
            foreach (var (id, checkpoint) in all.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append(id).Append(' ').Append(checkpoint.Position.Sequence.ToString()).Append(' ')
                    .Append(checkpoint.Position.SubSequence.ToString(CultureInfo.InvariantCulture));
                if (checkpoint.IsPartitionEnd)
                {
                    text.Append(" end");
                }

                text.Append('\n');
            }

            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            string temporary = _path + ".tmp";
            await File.WriteAllTextAsync(temporary, text.ToString(), cancellationToken).ConfigureAwait(false);
            File.Move(temporary, _path, overwrite: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private async ValueTask<Dictionary<string, Checkpoint>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_loaded is not null)
        {
            return _loaded;
        }

        var all = new Dictionary<string, Checkpoint>(StringComparer.Ordinal);
        if (File.Exists(_path))
        {
            int lineNumber = 0;
            foreach (string line in await File.ReadAllLinesAsync(_path, cancellationToken).ConfigureAwait(false))
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                string[] parts = line.Split(' ');
                if (parts.Length is < 3 or > 4
                    || !SequenceNumber.TryParse(parts[1], out var sequence)
                    || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long subSequence)
                    || (parts.Length == 4 && parts[3] != "end"))
                {
                    throw new InvalidDataException($"Checkpoint file '{_path}' line {lineNumber} is not 'partition sequence subSequence [end]': '{line}'.");
                }

                all[parts[0]] = new Checkpoint(new StreamPosition(parts[0], sequence, subSequence), parts.Length == 4);
            }
        }

        _loaded = all;
        return all;
    }
}
