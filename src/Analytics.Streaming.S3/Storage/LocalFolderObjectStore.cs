using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Analytics.Streaming.S3;

/// <summary>
/// An <see cref="IObjectStore"/> over a local folder: key <c>a/b/c.parquet</c> becomes the file
/// <c>root/a/b/c.parquet</c>. The embedded default for samples, tests and users without AWS; DuckDB, Spark and
/// pandas read the folder the same way Athena reads the bucket.
/// </summary>
/// <remarks>
/// <para>
/// An object is written to a hidden temporary file beside its final name (<c>.name.*.tmp</c>, which query engines
/// skip), flushed to disk, and renamed into place when whole, so a crash never leaves a truncated file under the final
/// name and a rewrite of the same key replaces the file atomically. (The folder itself is not synced after the rename:
/// after a power loss, a file renamed just before it can be missing, never partly written.)
/// </para>
/// <para>
/// Keys follow the S3 rules, and each segment must also fit in a file name: at most
/// <see cref="MaximumSegmentBytes"/> UTF-8 bytes, and the last one less, to leave room for the temporary name.
/// </para>
/// <para>Thread safe; distinct keys may be written concurrently.</para>
/// </remarks>
public sealed class LocalFolderObjectStore : IObjectStore
{
    /// <summary>The longest key segment (folder or file name) in UTF-8 bytes: 255, the file-name limit of common file systems.</summary>
    public const int MaximumSegmentBytes = 255;

    // ".{name}.{32 hex}.tmp" adds 38 characters to the file name while an object is written.
    private const int TemporaryNameOverhead = 38;

    private readonly string _root;

    /// <summary>Creates a store rooted at <paramref name="rootDirectory"/>, which is created when missing.</summary>
    /// <param name="rootDirectory">The folder that stands for the bucket.</param>
    public LocalFolderObjectStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(_root);
    }

    /// <summary>Gets the absolute path of the root folder.</summary>
    public string RootDirectory => _root;

    /// <inheritdoc />
    public string GetLocation(string key) => PathOf(key);

    /// <inheritdoc />
    public async Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        string path = PathOf(key);
        string temporary = TemporaryPathOf(path);
        try
        {
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <inheritdoc />
    public Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(key);
        return Task.FromResult<IMultipartUpload>(new Upload(key, path, TemporaryPathOf(path)));
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        string path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    /// <remarks>Hidden temporary files of objects being written (<c>.name.*.tmp</c>) are not listed.</remarks>
    public Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? _root : PathOf(prefix[..slash]);
        var keys = new List<string>();
        if (Directory.Exists(folder))
        {
            foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                string name = Path.GetFileName(file);
                if (name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    continue;
                }

                string key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    keys.Add(key);
                }
            }
        }

        keys.Sort(StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<string>>(keys);
    }

    /// <inheritdoc />
    /// <remarks>Hidden temporary files of objects being written (<c>.name.*.tmp</c>) are not listed.</remarks>
    public async Task<IReadOnlyList<StoredObject>> ListObjectsAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = await ListKeysAsync(prefix, cancellationToken).ConfigureAwait(false);
        var objects = new List<StoredObject>(keys.Count);
        foreach (string key in keys)
        {
            var file = new FileInfo(PathOf(key));
            if (file.Exists)
            {
                objects.Add(new StoredObject(key, file.Length));
            }
        }

        return objects;
    }

    /// <inheritdoc />
    public Task DeleteObjectAsync(string key, CancellationToken cancellationToken)
    {
        string path = PathOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Deletes the hidden temporary files (<c>.name.*.tmp</c>) that unfinished uploads of the keys left behind.</remarks>
    public Task AbortMultipartUploadsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (string key in keys)
        {
            string path = PathOf(key);
            string directory = Path.GetDirectoryName(path)!;
            if (Directory.Exists(directory))
            {
                foreach (string temporary in Directory.EnumerateFiles(directory, $".{Path.GetFileName(path)}.*.tmp"))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    TryDelete(temporary);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public bool IsValidKey(string key, [NotNullWhen(false)] out string? reason)
    {
        if (!ObjectKeys.TryValidate(key, out reason))
        {
            return false;
        }

        string[] segments = key.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            int limit = i == segments.Length - 1 ? MaximumSegmentBytes - TemporaryNameOverhead : MaximumSegmentBytes;
            int bytes = Encoding.UTF8.GetByteCount(segments[i]);
            if (bytes > limit)
            {
                reason = $"Object key '{ObjectKeys.Shorten(key)}' has a segment of {bytes} UTF-8 bytes; a local folder allows {limit} (file-name limit): shorten the partition values.";
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public bool IsTransient(Exception exception) => exception is IOException and not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException);

    private string PathOf(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!IsValidKey(key, out string? reason))
        {
            throw new ArgumentException(reason, nameof(key));
        }

        string path = Path.GetFullPath(Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object key '{key}' points outside the folder {_root}.", nameof(key));
        }

        return path;
    }

    private static string TemporaryPathOf(string path)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Nothing more to do: a leftover hidden temporary file is ignored by readers.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    private sealed class Upload(string key, string path, string temporary) : IMultipartUpload
    {
        private readonly List<long> _partStarts = [];
        private FileStream? _file;
        private bool _finished;

        public string Key => key;

        public async Task UploadPartAsync(int partNumber, Stream content, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(content);
            ObjectDisposedException.ThrowIf(_finished, this);
            if (partNumber < 1 || partNumber > _partStarts.Count + 1)
            {
                throw new ArgumentOutOfRangeException(nameof(partNumber), $"Part {partNumber} is out of order: the next part is {_partStarts.Count + 1} (parts go up one at a time, or repeat the last one).");
            }

            _file ??= new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            if (partNumber <= _partStarts.Count)
            {
                // A repeated part (a retry): cut the file back to where that part started.
                long start = _partStarts[partNumber - 1];
                _partStarts.RemoveRange(partNumber - 1, _partStarts.Count - partNumber + 1);
                _file.SetLength(start);
                _file.Position = start;
            }

            _partStarts.Add(_file.Position);
            await content.CopyToAsync(_file, cancellationToken).ConfigureAwait(false);
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            _file ??= new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
            File.Move(temporary, path, overwrite: true);
            _finished = true;
        }

        public async Task AbortAsync(CancellationToken cancellationToken)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            if (_file is not null)
            {
                await _file.DisposeAsync().ConfigureAwait(false);
                _file = null;
            }

            TryDelete(temporary);
        }

        public async ValueTask DisposeAsync() => await AbortAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
