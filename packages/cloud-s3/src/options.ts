/** Static credentials for S3 (omit to use the SDK's default chain: env, profile, IMDS). */
export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Options of {@link S3Provider}. Only `bucket` is required. */
export interface S3ProviderOptions {
  /** Bucket name (required). */
  bucket: string
  /**
   * Key prefix inside the bucket, a folder: `workspaces/notes` and `workspaces/notes/` both
   * mean the keys under `workspaces/notes/` (default `''`: the whole bucket).
   */
  prefix: string
  /** AWS region (default `us-east-1`; MinIO and s3rver ignore it). */
  region: string
  /** Custom endpoint such as `http://127.0.0.1:4568` for MinIO or s3rver (default: AWS). */
  endpoint: string | undefined
  /** Path-style URLs (`host/bucket/key`); default: true when `endpoint` is set, as most S3 clones need. */
  forcePathStyle: boolean | undefined
  /** Static credentials (default: the SDK's provider chain). */
  credentials: S3Credentials | undefined
  /** Multipart part size in bytes (default 8 MiB; S3's minimum is 5 MiB). Also the unit a resumed upload saves. */
  partSize: number
  /** Parts uploaded in parallel per object (default 4). */
  queueSize: number
  /** Bodies at least this big use multipart (default 8 MiB); smaller ones are one verified PUT. */
  multipartThreshold: number
  /**
   * Compute/validate flexible checksums only when an operation requires them
   * (default: true when `endpoint` is set). S3 clones such as s3rver store the
   * SDK's aws-chunked framing inside streamed objects otherwise: silent corruption.
   */
  checksumsWhenRequired: boolean | undefined
  /**
   * Attempts per request inside the SDK (default 1: no SDK retries). Retries
   * belong to one layer: SyncEngine, backup and restore retry every call with
   * back-off (`RetryOptions`), and a failed multipart upload resumes rather than
   * restarts. Raise this only when calling the provider directly, outside them.
   */
  maxAttempts: number
  /** Socket idle timeout per request in ms (default 60 000), so a stalled connection fails and is retried. */
  requestTimeoutMs: number
  /** Connect timeout in ms (default 10 000). */
  connectionTimeoutMs: number
  /**
   * Send single-request uploads to a custom path-style `endpoint` with Skein's
   * own SigV4 PUT instead of the SDK's (default: true when `endpoint` is set). Same request,
   * about a third of the client CPU per object: it decides how fast thousands of
   * small notes reach MinIO or s3rver. AWS (no `endpoint`) always uses the SDK.
   */
  lightweightPuts: boolean | undefined
  /**
   * Expose `uploadIf` (If-None-Match / If-Match on PUT). Default false: AWS enforces
   * it, but some clones (s3rver) silently ignore it, which would be unsafe.
   */
  conditionalWrites: boolean
}

/** Defaults for {@link S3ProviderOptions} (everything but `bucket`). */
export const DEFAULT_S3_PROVIDER_OPTIONS: Omit<S3ProviderOptions, 'bucket'> = {
  prefix: '',
  region: 'us-east-1',
  endpoint: undefined,
  forcePathStyle: undefined,
  credentials: undefined,
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
  multipartThreshold: 8 * 1024 * 1024,
  checksumsWhenRequired: undefined,
  maxAttempts: 1,
  requestTimeoutMs: 60_000,
  connectionTimeoutMs: 10_000,
  lightweightPuts: undefined,
  conditionalWrites: false,
}
