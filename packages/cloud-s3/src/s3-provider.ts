import type { Readable } from 'node:stream'
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { SkeinError } from '@skein/core'
import { abortError, readAll, verifyStream, withRetry } from '@skein/cloud'
import type {
  ByteStream,
  CallOptions,
  CloudSyncProvider,
  Download,
  ObjectInfo,
  UploadCheckpoint,
  UploadMeta,
  UploadOptions,
  WriteCondition,
} from '@skein/cloud'
import { isS3NotFound, s3Error } from './errors.js'
import { FastPut } from './fast-put.js'
import { abortMultipart, multipartUpload } from './multipart.js'
import { knownPayloadHash, sendOptions, useKnownPayloadHash } from './send.js'
import { DEFAULT_S3_PROVIDER_OPTIONS } from './options.js'
import type { S3ProviderOptions } from './options.js'

const META_SHA = 'sha256'
const META_MTIME = 'mtime'
const unquote = (etag: string | undefined) => etag?.replace(/^W\//, '').replace(/"/g, '')

/**
 * A bucket (or a prefix of one) on AWS S3 or an S3-compatible server (MinIO,
 * s3rver). sha-256 and mtime travel as object metadata (`x-amz-meta-sha256`,
 * `x-amz-meta-mtime`); large bodies go multipart, resumable when the caller
 * passes a resume store (see `UploadOptions.resume`). The SDK does not retry
 * (`maxAttempts` 1): retries belong to the caller (SyncEngine, backup), so the
 * two layers never multiply.
 */
export class S3Provider implements CloudSyncProvider {
  readonly name: string
  readonly client: S3Client
  readonly options: S3ProviderOptions
  private readonly checksums: boolean
  private readonly fast: FastPut | undefined
  /** Conditional PUT (If-None-Match / If-Match), present only with `conditionalWrites`. */
  readonly uploadIf?: (
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    condition: WriteCondition,
    options?: CallOptions,
  ) => Promise<ObjectInfo>

  constructor(options: Partial<S3ProviderOptions> & { bucket: string }) {
    this.options = { ...DEFAULT_S3_PROVIDER_OPTIONS, ...options }
    // A prefix is a folder: "team" must not hold, list or delete the keys of "team2"
    this.options.prefix = this.options.prefix.replace(/^\/+/, '').replace(/\/*$/, '/')
    if (this.options.prefix === '/') this.options.prefix = ''
    const o = this.options
    if (o.bucket.length < 3)
      throw new SkeinError(
        'INVALID_INPUT',
        `S3 bucket name ${JSON.stringify(o.bucket)} is too short; bucket names have 3 to 63 characters.`,
      )
    for (const [name, v, min] of [
      ['partSize', o.partSize, 1],
      ['queueSize', o.queueSize, 1],
      ['multipartThreshold', o.multipartThreshold, 1],
      ['maxAttempts', o.maxAttempts, 1],
    ] as const)
      if (!Number.isInteger(v) || v < min)
        throw new SkeinError(
          'INVALID_INPUT',
          `S3 option ${name} is ${String(v)}; it must be a whole number of at least ${min}.`,
        )
    if (o.partSize < 5 * 1024 * 1024)
      throw new SkeinError(
        'INVALID_INPUT',
        `S3 partSize ${o.partSize} is below S3's 5 MiB minimum; raise it.`,
      )
    this.name = `s3://${o.bucket}/${o.prefix}`
    const custom = o.endpoint !== undefined
    const config: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle ?? custom,
      maxAttempts: o.maxAttempts,
      // One resolved middleware chain per command type instead of one per request:
      // a large share of the SDK's CPU cost when sending thousands of small PUTs.
      cacheMiddleware: true,
      requestHandler: {
        requestTimeout: o.requestTimeoutMs,
        connectionTimeout: o.connectionTimeoutMs,
        // Without this the SDK only logs a warning and a stalled socket hangs forever.
        throwOnRequestTimeout: true,
      },
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
    }
    if (o.checksumsWhenRequired ?? custom) {
      config.requestChecksumCalculation = 'WHEN_REQUIRED'
      config.responseChecksumValidation = 'WHEN_REQUIRED'
    }
    this.client = new S3Client(config)
    useKnownPayloadHash(this.client)
    // The SDK logger is unused (errors surface as SkeinErrors), but its middleware
    // redacts every request and response for the no-op logger: pure cost per request.
    this.client.middlewareStack.remove('loggerMiddleware')
    this.checksums = !(o.checksumsWhenRequired ?? custom)
    const client = this.client
    this.fast =
      o.endpoint && (o.forcePathStyle ?? custom) && (o.lightweightPuts ?? true)
        ? new FastPut({
            endpoint: o.endpoint,
            bucket: o.bucket,
            region: o.region,
            credentials: () => client.config.credentials(),
            clockOffset: () => client.config.systemClockOffset ?? 0,
            requestTimeoutMs: o.requestTimeoutMs,
            maxSockets: 64,
          })
        : undefined
    if (o.conditionalWrites) this.uploadIf = (k, b, m, c, opt) => this.put(k, b, m, c, opt ?? {})
  }

  private full(key: string): string {
    return this.options.prefix + key
  }

  private fromHead(
    key: string,
    r: {
      ContentLength?: number
      ETag?: string
      Metadata?: Record<string, string>
      LastModified?: Date
    },
  ): ObjectInfo {
    const mtime = Number(r.Metadata?.[META_MTIME])
    return {
      key,
      size: r.ContentLength ?? 0,
      etag: unquote(r.ETag),
      sha256: r.Metadata?.[META_SHA],
      mtime: Number.isFinite(mtime) && r.Metadata?.[META_MTIME] ? mtime : r.LastModified?.getTime(),
    }
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<ObjectInfo> {
    const strip = this.options.prefix.length
    let token: string | undefined
    do {
      let page
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.full(prefix),
            ContinuationToken: token,
          }),
          sendOptions(options.signal),
        )
      } catch (err) {
        if (options.signal?.aborted) throw abortError(options.signal)
        throw s3Error(err, 'list', `${this.name}${prefix}`)
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || o.Key.endsWith('/')) continue
        yield { key: o.Key.slice(strip), size: o.Size ?? 0, etag: unquote(o.ETag) }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) }),
        sendOptions(options.signal),
      )
      return this.fromHead(key, r)
    } catch (err) {
      if (isS3NotFound(err)) return undefined
      if (options.signal?.aborted) throw abortError(options.signal)
      throw s3Error(err, 'head', this.name + key)
    }
  }

  async download(key: string, options: CallOptions = {}): Promise<Download | undefined> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) }),
        sendOptions(options.signal),
      )
      return { info: this.fromHead(key, r), body: r.Body as Readable }
    } catch (err) {
      if (isS3NotFound(err)) return undefined
      if (options.signal?.aborted) throw abortError(options.signal)
      throw s3Error(err, 'download', this.name + key)
    }
  }

  async upload(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    options: UploadOptions = {},
  ): Promise<ObjectInfo> {
    return this.put(key, body, meta, undefined, options)
  }

  /** Aborts the multipart upload a checkpoint describes (resumable-upload capability). */
  async abortUpload(checkpoint: UploadCheckpoint, options: CallOptions = {}): Promise<void> {
    const cp = checkpoint as Partial<UploadCheckpoint> | undefined
    if (typeof cp?.key !== 'string' || typeof cp.uploadId !== 'string' || cp.uploadId === '')
      throw new SkeinError(
        'INVALID_INPUT',
        `abortUpload on ${this.name} needs a checkpoint saved by an upload (with key and uploadId); got ${JSON.stringify(checkpoint)}.`,
      )
    await abortMultipart(this.client, this.options.bucket, this.full(checkpoint.key), checkpoint, {
      where: this.name + checkpoint.key,
      signal: options.signal,
    })
  }

  private async put(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    cond: WriteCondition | undefined,
    options: UploadOptions,
  ): Promise<ObjectInfo> {
    const o = this.options
    const verified = verifyStream(body, meta, `upload ${key} to ${this.name}`)
    const Metadata = { [META_SHA]: meta.sha256, [META_MTIME]: String(meta.mtime) }
    const done = (etag: string | undefined): ObjectInfo => ({
      key,
      size: meta.size,
      sha256: meta.sha256,
      mtime: meta.mtime,
      etag,
    })
    if (meta.size >= o.multipartThreshold) {
      if (cond)
        throw new SkeinError(
          'UNSUPPORTED',
          `Conditional upload of ${key} (${meta.size} bytes) exceeds the single-PUT limit of ${this.name}; raise multipartThreshold.`,
        )
      // A hash mismatch fails the stream before CompleteMultipartUpload: nothing is stored.
      const r = await multipartUpload({
        client: this.client,
        bucket: o.bucket,
        key,
        fullKey: this.full(key),
        where: this.name + key,
        meta,
        metadata: Metadata,
        body: verified,
        // S3 allows 10,000 parts: bigger bodies get bigger parts (the same for every attempt).
        partSize: Math.max(o.partSize, Math.ceil(meta.size / 10_000)),
        queueSize: o.queueSize,
        checksums: this.checksums,
        resume: options.resume,
        signal: options.signal,
      })
      return done(r.etag)
    }
    try {
      // Buffered: the whole body is verified before a single byte is sent.
      const bytes = await readAll(verified)
      if (this.fast && !cond) return done(await this.putFast(key, bytes, meta, Metadata, options))
      const cmd = new PutObjectCommand({
        Bucket: o.bucket,
        Key: this.full(key),
        Metadata,
        Body: bytes,
        ContentLength: bytes.length,
        IfNoneMatch: cond?.ifNoneMatch,
        IfMatch: cond?.ifMatch,
      })
      knownPayloadHash.set(bytes, meta.sha256)
      const r = await this.client.send(cmd, sendOptions(options.signal))
      return done(unquote(r.ETag))
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal)
      throw s3Error(err, 'upload', this.name + key)
    }
  }

  /** One PUT through {@link FastPut}, with the same attempts and classification as the SDK path. */
  private putFast(
    key: string,
    bytes: Buffer,
    meta: UploadMeta,
    metadata: Record<string, string>,
    options: CallOptions,
  ): Promise<string | undefined> {
    const fast = this.fast as FastPut
    return withRetry(
      async () => {
        try {
          const etag = await fast.put(this.full(key), bytes, meta.sha256, metadata, options.signal)
          return unquote(etag)
        } catch (err) {
          if (options.signal?.aborted) throw abortError(options.signal)
          throw s3Error(err, 'upload', this.name + key)
        }
      },
      { attempts: this.options.maxAttempts, baseDelayMs: 100, signal: options.signal },
    )
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) }),
        sendOptions(options.signal),
      )
    } catch (err) {
      if (isS3NotFound(err)) return
      throw s3Error(err, 'delete', this.name + key)
    }
  }

  async copy(from: string, to: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.options.bucket,
          Key: this.full(to),
          CopySource: encodeURI(`${this.options.bucket}/${this.full(from)}`),
          MetadataDirective: 'COPY',
        }),
        sendOptions(options.signal),
      )
    } catch (err) {
      if (isS3NotFound(err)) return undefined
      throw s3Error(err, 'copy', `${this.name}${from} to ${to}`)
    }
    return this.head(to, options)
  }

  async close(): Promise<void> {
    this.fast?.close()
    this.client.destroy()
  }
}
