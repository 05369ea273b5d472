using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// An idempotent result sink over a folder: one file per result identity, replaced atomically (written to a hidden
/// temporary file, then renamed over the old one), and only by a result built from at least as many records as the
/// stored one. That is the versioned write the DynamoDB and OpenSearch sinks use (a conditional put on the record
/// count): the replay after a restart re-emits earlier, smaller versions first, and they must not win.
/// </summary>
/// <remarks>
/// Every write reaches the file system before <see cref="WriteAsync"/> returns, so <see cref="FlushAsync"/> has
/// nothing left to do. Files survive the process being killed (they are in the operating system's cache), which is
/// the failure these tests inject; a power loss would need an fsync before each rename.
/// </remarks>
internal sealed class ResultDirectorySink : ISink<WindowResult<string, (long Count, long Sum)>>
{
    private readonly string _folder;
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);

    /// <summary>Creates the sink and reads the versions already stored.</summary>
    /// <param name="folder">The folder; created when missing.</param>
    public ResultDirectorySink(string folder)
    {
        _folder = folder;
        Directory.CreateDirectory(folder);
        foreach (string file in CrashFiles.ListFiles(folder))
        {
            var stored = JsonSerializer.Deserialize(File.ReadAllBytes(file), CrashJson.Default.ResultFile)!;
            _versions[stored.Id] = stored.RecordCount;
        }
    }

    /// <summary>Gets the number of results written.</summary>
    public long Written { get; private set; }

    /// <summary>Gets the number of results not written because a version with more records was stored.</summary>
    public long Stale { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, (long Count, long Sum)>> items, CancellationToken cancellationToken)
    {
        for (int i = 0; i < items.Length; i++)
        {
            var result = items.Span[i];
            string id = result.Id;
            if (_versions.TryGetValue(id, out long stored) && result.RecordCount < stored)
            {
                Stale++;
                continue;
            }

            var file = new ResultFile(
                id,
                result.Key,
                result.Window.Start.ToUnixTimeMilliseconds(),
                result.Window.End.ToUnixTimeMilliseconds(),
                result.Value.Count,
                result.Value.Sum,
                result.RecordCount,
                result.Reason.ToString());
            await AtomicFile.WriteAsync(_folder, CrashFiles.FileNameFor(id), JsonSerializer.SerializeToUtf8Bytes(file, CrashJson.Default.ResultFile), cancellationToken).ConfigureAwait(false);
            _versions[id] = result.RecordCount;
            Written++;
        }
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// A sink for late records or dead letters over a folder: one file per source position, so the replay of a record
/// overwrites its file instead of adding a second one. Written atomically, like <see cref="ResultDirectorySink"/>.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <typeparam name="TFile">The file's content type.</typeparam>
/// <param name="folder">The folder; created on the first write.</param>
/// <param name="position">Reads an item's position.</param>
/// <param name="toFile">Turns an item into the file's content.</param>
/// <param name="typeInfo">The JSON metadata of the content.</param>
internal sealed class PositionDirectorySink<T, TFile>(string folder, Func<T, StreamPosition> position, Func<T, TFile> toFile, JsonTypeInfo<TFile> typeInfo) : ISink<T>
{
    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        for (int i = 0; i < items.Length; i++)
        {
            var item = items.Span[i];
            byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(toFile(item), typeInfo);
            await AtomicFile.WriteAsync(folder, CrashFiles.FileNameFor(position(item).ToString()), bytes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Writes a file so that readers see the old content or the new one, never a part.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to a hidden temporary file in <paramref name="folder"/>, then renames it to <paramref name="name"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="name">The file name.</param>
    /// <param name="bytes">The content.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is in place.</returns>
    public static async Task WriteAsync(string folder, string name, byte[] bytes, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(folder, "." + name + ".tmp");
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, Path.Combine(folder, name), overwrite: true);
    }
}
