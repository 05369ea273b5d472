namespace Analytics.Streaming.S3;

/// <summary>
/// Where the data-lake sink puts its objects: an S3 bucket (<see cref="S3ObjectStore"/>) or a local folder
/// (<see cref="LocalFolderObjectStore"/>), addressed by S3-style keys such as <c>lake/clicks/year=2024/part-1.parquet</c>.
/// </summary>
/// <remarks>
/// <para>
/// An object becomes visible only when it is whole: after <see cref="PutObjectAsync"/> returns, or after
/// <see cref="IMultipartUpload.CompleteAsync"/> of a multipart upload. Writing a key that exists replaces the
/// object, which is how a replay overwrites instead of duplicating.
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
