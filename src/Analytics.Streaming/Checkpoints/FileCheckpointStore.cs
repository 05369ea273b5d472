using System.Text;

namespace Analytics.Streaming;

/// <summary>
/// A checkpoint store in a local folder: one file per pipeline (<c>{name}.checkpoint</c>), replaced atomically on
/// every save (written to a temporary file, flushed to disk, then renamed over the old one).
/// </summary>
/// <remarks>
/// <para>
/// For pipelines on one machine. A torn file cannot result from a crash (the rename is atomic), and a damaged one
/// is reported by <see cref="LoadAsync"/> (<see cref="InvalidDataException"/>) rather than read as empty.
/// Pipeline names are escaped into file names, so any name works.
/// </para>
/// <para>
/// Several processes may share the folder: saves and claims hold an exclusive lock on <c>{name}.checkpoint.lock</c>
/// (waiting up to 30 seconds for another process), and a claim's fencing token is kept in
/// <c>{name}.checkpoint.fence</c>, replaced atomically like the checkpoint.
/// </para>
/// </remarks>
public sealed class FileCheckpointStore : IFencedCheckpointStore, IDisposable
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

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
    public async ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fence);
        string path = GetPath(pipelineName);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var processLock = await LockAsync(path, cancellationToken).ConfigureAwait(false);
            await RaiseFenceAsync(path, pipelineName, fence, cancellationToken).ConfigureAwait(false);
            return await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => SaveAsync(checkpoint, 0, cancellationToken);

    /// <inheritdoc />
    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(fence);
        string path = GetPath(checkpoint.PipelineName);
        byte[] bytes = checkpoint.ToBytes();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var processLock = await LockAsync(path, cancellationToken).ConfigureAwait(false);

            // The fence first: a crash between the two writes leaves a claim, never an unfenced checkpoint.
            long stored = await RaiseFenceAsync(path, checkpoint.PipelineName, fence, cancellationToken).ConfigureAwait(false);
            if (stored == fence && await ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } current && current.Id >= checkpoint.Id)
            {
                return;
            }

            await ReplaceAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>Writes a file's new content beside it, flushes it to disk and renames it over the file.</summary>
    private async ValueTask ReplaceAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
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

    /// <summary>Takes the exclusive lock other processes sharing the folder respect, waiting up to 30 seconds.</summary>
    private async ValueTask<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException) && System.Diagnostics.Stopwatch.GetElapsedTime(started) < LockTimeout)
            {
                // Another process holds it for the length of one save.
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Refuses a token lower than the stored one and stores a higher one (under the lock); returns the token stored before.</summary>
    private async ValueTask<long> RaiseFenceAsync(string path, string pipelineName, long fence, CancellationToken cancellationToken)
    {
        long stored = await ReadFenceAsync(path, cancellationToken).ConfigureAwait(false);
        if (stored > fence)
        {
            throw new CheckpointFencedException(pipelineName, fence, stored);
        }

        if (stored < fence)
        {
            await ReplaceAsync(path + ".fence", Encoding.ASCII.GetBytes(fence.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    private static async ValueTask<long> ReadFenceAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path + ".fence", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long fence)
            ? fence
            : throw new InvalidDataException($"Fence file '{path}.fence' cannot be read: it holds '{text}', not a number. Delete it only when no other process writes this pipeline.");
    }

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
