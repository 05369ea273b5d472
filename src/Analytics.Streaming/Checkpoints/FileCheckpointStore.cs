using System.Text;

namespace Analytics.Streaming;

/// <summary>
/// A checkpoint store in a local folder: one file per pipeline (<c>{name}.checkpoint</c>), replaced atomically on
/// every save (written to a temporary file, flushed to disk, then renamed over the old one).
/// </summary>
/// <remarks>
/// For pipelines on one machine. A torn file cannot result from a crash (the rename is atomic), and a damaged one
/// is reported by <see cref="LoadAsync"/> (<see cref="InvalidDataException"/>) rather than read as empty.
/// Pipeline names are escaped into file names, so any name works.
/// </remarks>
public sealed class FileCheckpointStore : ICheckpointStore, IDisposable
{
    private readonly string _folder;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates a store that keeps checkpoints in <paramref name="folder"/>; the folder is created on the first save.</summary>
    /// <param name="folder">The folder.</param>
    public FileCheckpointStore(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        _folder = Path.GetFullPath(folder);
    }

    /// <summary>Gets the folder the checkpoints are kept in.</summary>
    public string Folder => _folder;

    /// <summary>Gets the file that holds a pipeline's checkpoint.</summary>
    /// <param name="pipelineName">The pipeline name.</param>
    /// <returns>The full path.</returns>
    public string GetPath(string pipelineName)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        var name = new StringBuilder(pipelineName.Length + 11);
        foreach (char c in pipelineName)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                name.Append(c);
            }
            else
            {
                name.Append('%').Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return Path.Combine(_folder, name.Append(".checkpoint").ToString());
    }

    /// <inheritdoc />
    public async ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
    {
        string path = GetPath(pipelineName);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string path = GetPath(checkpoint.PipelineName);
        byte[] bytes = checkpoint.ToBytes();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } stored && stored.Id >= checkpoint.Id)
            {
                return;
            }

            Directory.CreateDirectory(_folder);
            string temporary = path + ".tmp";
            var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private static async ValueTask<PipelineCheckpoint?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return PipelineCheckpoint.Parse(bytes);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Checkpoint file '{path}' cannot be read: {ex.Message} Restore it from a backup or delete it to start the pipeline over.", ex);
        }
    }
}
