using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming.S3;

/// <summary>
/// Where the data-lake sink puts its objects: an S3 bucket (<see cref="S3ObjectStore"/>) or a local folder
/// (<see cref="LocalFolderObjectStore"/>), addressed by S3-style keys such as <c>lake/clicks/year=2024/part-1.parquet</c>.
/// </summary>
/// <remarks>
/// <para>
/// An object becomes visible only when it is whole: after <see cref="PutObjectAsync"/> returns, or after
/// <see cref="IMultipartUpload.CompleteAsync"/> of a multipart upload. Writing a key that exists replaces the
/// object. The sink also reads, lists and deletes the small intent logs it keeps outside the table, and deletes the
/// objects of checkpoints that were never saved (see <see cref="S3Sink{T}"/>).
/// </para>
/// <para>
/// Implementations are safe to call from several tasks at once. They do not retry: the sink wraps every call in
/// its bounded retry policy and asks <see cref="IsTransient"/> which failures are worth another attempt.
/// </para>
/// </remarks>
public interface IObjectStore
{
    /// <summary>Gets the location of an object as a user would write it (<c>s3://bucket/key</c> or a file path), for messages and table definitions.</summary>
    /// <param name="key">The object key.</param>
    /// <returns>The location.</returns>
    string GetLocation(string key);

    /// <summary>Writes a whole object in one request.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="content">The bytes, a readable and seekable stream read from its current position to its end.</param>
    /// <param name="contentType">The media type, such as <c>application/vnd.apache.parquet</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the object is stored.</returns>
    Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken);

    /// <summary>Starts a multipart upload; the object appears only when the upload completes.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="contentType">The media type.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The upload, to which parts are added in ascending part-number order.</returns>
    Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken);

    /// <summary>Reads a whole object into memory; meant for small objects such as the sink's intent logs.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object's bytes, or <see langword="null"/> when no object has that key.</returns>
    Task<byte[]?> GetObjectAsync(string key, CancellationToken cancellationToken);

    /// <summary>Lists the keys that start with <paramref name="prefix"/>, in ordinal (UTF-8 byte) order.</summary>
    /// <param name="prefix">The key prefix, such as <c>lake/_sink-intents/clicks/worker-1/</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The keys of whole objects (never objects still being written).</returns>
    Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Lists the objects whose keys start with <paramref name="prefix"/>, with their sizes, in ordinal key order.</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The whole objects (never objects still being written).</returns>
    /// <remarks>
    /// The default implementation calls <see cref="ListKeysAsync"/> and reports every size as unknown
    /// (<see langword="null"/>); <see cref="S3ObjectStore"/> and <see cref="LocalFolderObjectStore"/> give the sizes.
    /// The compaction job (<see cref="ParquetCompactor"/>) uses the sizes to find small objects without reading them.
    /// </remarks>
    async Task<IReadOnlyList<StoredObject>> ListObjectsAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = await ListKeysAsync(prefix, cancellationToken).ConfigureAwait(false);
        var objects = new StoredObject[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            objects[i] = new StoredObject(keys[i], null);
        }

        return objects;
    }

    /// <summary>Deletes an object; a key without an object is not an error.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the object is gone.</returns>
    Task DeleteObjectAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Discards the multipart uploads of <paramref name="keys"/> that were started and never completed (by a process
    /// that crashed). Best effort: failures, and stores that cannot list or abort uploads, are swallowed, and an
    /// <c>AbortIncompleteMultipartUpload</c> lifecycle rule cleans up what remains.
    /// </summary>
    /// <param name="keys">The object keys.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>A task that completes when the uploads are aborted or the attempt failed.</returns>
    Task AbortMultipartUploadsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Whether this store can hold an object under <paramref name="key"/>: at most 1,024 UTF-8 bytes, no empty,
    /// <c>.</c> or <c>..</c> segments, no control characters (and, for a local folder, segments short enough to be
    /// file names). The sink asks before it opens an object, and sends records whose key fails to its error prefix.
    /// </summary>
    /// <param name="key">The object key.</param>
    /// <param name="reason">Why the key cannot be used; <see langword="null"/> when it can.</param>
    /// <returns><see langword="true"/> when the key is usable.</returns>
    bool IsValidKey(string key, [NotNullWhen(false)] out string? reason);

    /// <summary>Whether a failure of this store is worth retrying (throttling, a 5xx status, a dropped connection, a timeout).</summary>
    /// <param name="exception">The failure.</param>
    /// <returns><see langword="true"/> when the same request may succeed if sent again.</returns>
    bool IsTransient(Exception exception);
}

/// <summary>An object being written in parts (S3 multipart upload, or a temporary file for a local folder).</summary>
/// <remarks>
/// Parts are numbered from 1 and uploaded one at a time in ascending order; every part but the last must hold
/// at least <see cref="S3ObjectStore.MinimumPartSize"/> bytes on S3. Disposing an upload that was not completed
/// aborts it (best effort).
/// </remarks>
public interface IMultipartUpload : IAsyncDisposable
{
    /// <summary>Gets the key of the object being written.</summary>
    string Key { get; }

    /// <summary>Uploads one part. Uploading the same part number again replaces that part (so a retry is safe).</summary>
    /// <param name="partNumber">The part number, 1 to 10,000.</param>
    /// <param name="content">The part's bytes, a readable and seekable stream read from its current position to its end.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the part is stored.</returns>
    Task UploadPartAsync(int partNumber, Stream content, CancellationToken cancellationToken);

    /// <summary>Assembles the uploaded parts into the object, which then becomes visible.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the object is stored.</returns>
    Task CompleteAsync(CancellationToken cancellationToken);

    /// <summary>Discards the uploaded parts. Failures are swallowed: an S3 lifecycle rule (<c>AbortIncompleteMultipartUpload</c>) cleans up what remains.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the upload is aborted or the attempt failed.</returns>
    Task AbortAsync(CancellationToken cancellationToken);
}

/// <summary>An object as a listing reports it.</summary>
/// <param name="Key">The object key.</param>
/// <param name="Size">The size in bytes; <see langword="null"/> when the store does not say.</param>
public readonly record struct StoredObject(string Key, long? Size);
