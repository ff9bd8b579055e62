import { Readable } from 'node:stream'
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
import { Upload } from '@aws-sdk/lib-storage'
import { SkeinError } from '@skein/core'
import { abortError, readAll, verifyStream } from '@skein/cloud'
import type {
  ByteStream,
  CallOptions,
  CloudSyncProvider,
  Download,
  ObjectInfo,
  UploadMeta,
  WriteCondition,
} from '@skein/cloud'
import { isS3NotFound, s3Error } from './errors.js'
import { DEFAULT_S3_PROVIDER_OPTIONS } from './options.js'
import type { S3ProviderOptions } from './options.js'

const META_SHA = 'sha256'
const META_MTIME = 'mtime'
const unquote = (etag: string | undefined) => etag?.replace(/^W\//, '').replace(/"/g, '')

/**
 * A bucket (or a prefix of one) on AWS S3 or an S3-compatible server (MinIO,
 * s3rver). sha-256 and mtime travel as object metadata (`x-amz-meta-sha256`,
 * `x-amz-meta-mtime`); large bodies go multipart through `@aws-sdk/lib-storage`.
 */
export class S3Provider implements CloudSyncProvider {
  readonly name: string
  readonly client: S3Client
  readonly options: S3ProviderOptions
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
    const o = this.options
    if (o.bucket.length < 3)
      throw new SkeinError(
        'INVALID_INPUT',
        `S3 bucket name ${JSON.stringify(o.bucket)} is too short; bucket names have 3 to 63 characters.`,
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
          { abortSignal: options.signal },
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
        { abortSignal: options.signal },
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
        { abortSignal: options.signal },
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
    options: CallOptions = {},
  ): Promise<ObjectInfo> {
    return this.put(key, body, meta, undefined, options)
  }

  private async put(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    cond: WriteCondition | undefined,
    options: CallOptions,
  ): Promise<ObjectInfo> {
    const o = this.options
    const verified = verifyStream(body, meta, `upload ${key} to ${this.name}`)
    const Metadata = { [META_SHA]: meta.sha256, [META_MTIME]: String(meta.mtime) }
    const base = { Bucket: o.bucket, Key: this.full(key), Metadata }
    try {
      if (meta.size < o.multipartThreshold) {
        // Buffered: the whole body is verified before a single byte is sent.
        const bytes = await readAll(verified)
        const r = await this.client.send(
          new PutObjectCommand({
            ...base,
            Body: bytes,
            ContentLength: bytes.length,
            IfNoneMatch: cond?.ifNoneMatch,
            IfMatch: cond?.ifMatch,
          }),
          { abortSignal: options.signal },
        )
        return {
          key,
          size: meta.size,
          sha256: meta.sha256,
          mtime: meta.mtime,
          etag: unquote(r.ETag),
        }
      }
      if (cond)
        throw new SkeinError(
          'UNSUPPORTED',
          `Conditional upload of ${key} (${meta.size} bytes) exceeds the single-PUT limit of ${this.name}; raise multipartThreshold.`,
        )
      // Multipart: a hash mismatch fails the stream before CompleteMultipartUpload, and the upload is aborted.
      const up = new Upload({
        client: this.client,
        params: { ...base, Body: Readable.from(verified), ContentLength: meta.size },
        partSize: o.partSize,
        queueSize: o.queueSize,
        leavePartsOnError: false,
      })
      const onAbort = () => void up.abort().catch(() => undefined)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const r = await up.done()
        return {
          key,
          size: meta.size,
          sha256: meta.sha256,
          mtime: meta.mtime,
          etag: unquote(r.ETag),
        }
      } finally {
        options.signal?.removeEventListener('abort', onAbort)
      }
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal)
      throw s3Error(err, 'upload', this.name + key)
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) }),
        { abortSignal: options.signal },
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
        { abortSignal: options.signal },
      )
    } catch (err) {
      if (isS3NotFound(err)) return undefined
      throw s3Error(err, 'copy', `${this.name}${from} to ${to}`)
    }
    return this.head(to, options)
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
