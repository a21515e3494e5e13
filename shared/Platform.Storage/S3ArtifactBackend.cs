using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Platform.Storage;

/// <summary>Configuration section "Artifacts:S3": an S3-compatible bucket (AWS, MinIO, Ceph, a test server).</summary>
public sealed class S3ArtifactOptions
{
    /// <summary>The endpoint, e.g. http://minio:9000; null for AWS's own endpoints in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }
    public string Bucket { get; set; } = "";
    /// <summary>Prepended to every key ("platform/" → platform/runs/…), so one bucket can hold several
    /// installations.</summary>
    public string Prefix { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    /// <summary>bucket in the path (http://host/bucket/key), as MinIO and most self-hosted servers want.</summary>
    public bool ForcePathStyle { get; set; } = true;
}

/// <summary>Artifacts in an S3-compatible bucket, through AWSSDK.S3; the store's local folder is then a
/// cache.</summary>
public sealed class S3ArtifactBackend : IArtifactBackend, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly S3ArtifactOptions _options;

    public S3ArtifactBackend(S3ArtifactOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Bucket))
            throw new InvalidOperationException("Artifacts:S3:Bucket must name the bucket when Artifacts:Store is s3.");
        _options = options;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // Checksums only where S3 requires them: self-hosted servers do not all read the trailing checksums of
            // aws-chunked uploads that SDK 4 sends by default.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { Length: > 0 } url)
            config.ServiceURL = url;
        else
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        _client = options.AccessKey is { Length: > 0 } access
            ? new AmazonS3Client(new BasicAWSCredentials(access, options.SecretKey ?? ""), config)
            : new AmazonS3Client(config);
    }

    public bool IsLocalFolder => false;

    public string Describe()
    {
        var endpoint = _options.ServiceUrl is { Length: > 0 } url ? url.TrimEnd('/') : "aws " + _options.Region;
        return $"s3 {endpoint}/{_options.Bucket}/{_options.Prefix}";
    }

    private string ObjectKey(string key) => _options.Prefix + key;

    public async Task<string?> VersionOfAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var metadata = await _client.GetObjectMetadataAsync(_options.Bucket, ObjectKey(key), cancellationToken);
            return metadata.ETag;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<string> UploadAsync(string key, string path, CancellationToken cancellationToken)
    {
        var response = await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = ObjectKey(key),
            FilePath = path,
            UseChunkEncoding = false,
        }, cancellationToken);
        return response.ETag;
    }

    public async Task<string?> DownloadAsync(string key, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken);
            await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                await response.ResponseStream.CopyToAsync(file, cancellationToken);
            return response.ETag;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        _client.DeleteObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken);

    public async Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request
        {
            BucketName = _options.Bucket,
            Prefix = ObjectKey(prefix.TrimEnd('/') + "/")
        };
        ListObjectsV2Response page;
        do
        {
            page = await _client.ListObjectsV2Async(request, cancellationToken);
            // One delete per object: not every S3-compatible server has the batch DeleteObjects call.
            foreach (var item in page.S3Objects ?? [])
                await _client.DeleteObjectAsync(_options.Bucket, item.Key, cancellationToken);
            request.ContinuationToken = page.NextContinuationToken;
        } while (page.IsTruncated == true);
    }

    public void Dispose() => _client.Dispose();
}
