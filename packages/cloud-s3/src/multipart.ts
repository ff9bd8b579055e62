import { createHash } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import type { S3Client } from '@aws-sdk/client-s3'
import { SkeinError, isSkeinError } from '@skein/core'
import { abortError } from '@skein/cloud'
import type {
  ByteStream,
  UploadCheckpoint,
  UploadMeta,
  UploadResumeStore,
  UploadedPart,
} from '@skein/cloud'
import { s3Error, statusOf } from './errors.js'
import { sendOptions } from './send.js'

/** One multipart upload to run. */
export interface MultipartJob {
  client: S3Client
  bucket: string
  /** The provider-relative key (what the checkpoint records). */
  key: string
  /** The key in the bucket. */
  fullKey: string
  /** `s3://bucket/prefix/key`, for messages. */
  where: string
  meta: UploadMeta
  /** Object metadata (sha-256, mtime), set when the upload is created. */
  metadata: Record<string, string>
  /** The body, verified: it fails at its end unless it matches `meta`. */
  body: ByteStream
  partSize: number
  /** Parts in flight at once. */
  queueSize: number
  /** Ask S3 for a CRC32 per part (when the client computes flexible checksums, as on AWS). */
  checksums: boolean
  /** Where progress is kept so a later attempt can resume (absent: abort on failure). */
  resume: UploadResumeStore | undefined
  signal: AbortSignal | undefined
}

/** What a multipart upload did. */
export interface MultipartResult {
  etag: string | undefined
  /** Parts sent in this call. */
  sent: number
  /** Parts already stored by an earlier attempt, verified and reused. */
  reused: number
}

const unquote = (etag: string | undefined) => etag?.replace(/^W\//, '').replace(/"/g, '')
const MD5_ETAG = /^[0-9a-f]{32}$/

function isNoSuchUpload(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name
  return name === 'NoSuchUpload' || statusOf(err) === 404
}

function isUnsupported(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name
  const status = statusOf(err)
  return (
    name === 'NotImplemented' || name === 'MethodNotAllowed' || status === 405 || status === 501
  )
}

/** Cuts a stream into buffers of exactly `size` bytes (the last one shorter). */
async function* chunksOf(body: ByteStream, size: number): AsyncGenerator<Buffer> {
  let held: Uint8Array[] = []
  let have = 0
  for await (const chunk of body) {
    let rest = chunk
    while (have + rest.byteLength >= size) {
      const take = size - have
      held.push(rest.subarray(0, take))
      yield Buffer.concat(held, size)
      held = []
      have = 0
      rest = rest.subarray(take)
    }
    if (rest.byteLength) {
      held.push(rest)
      have += rest.byteLength
    }
  }
  if (have) yield Buffer.concat(held, have)
}

/**
 * Uploads `job.body` in parts. With a resume store, an earlier attempt's upload
 * is continued when it is for the same bytes (size, sha-256, part size) and still
 * exists: its stored parts are checked (ListParts where the server has it, else
 * the checkpoint; each part's MD5 ETag against the local bytes) and only the
 * others are sent. The whole body is always read and verified before
 * CompleteMultipartUpload, so a resumed object is exactly the local file.
 */
export async function multipartUpload(job: MultipartJob): Promise<MultipartResult> {
  const prev = await job.resume?.load()
  const reusable = prev ? await reusableParts(job, prev) : undefined
  // A checkpoint that cannot be resumed is replaced; the store aborts the old upload.
  const cp = prev && reusable ? prev : await create(job)
  const done = new Map<number, UploadedPart>(reusable ?? [])
  let saving: Promise<void> = Promise.resolve()
  const save = () => {
    const snapshot: UploadCheckpoint = {
      ...cp,
      parts: [...done.values()].sort((a, b) => a.number - b.number),
    }
    saving = saving.then(() => job.resume?.save(snapshot))
    return saving
  }
  const inflight = new Set<Promise<void>>()
  let failure: unknown
  let count = 0
  const result: MultipartResult = { etag: undefined, sent: 0, reused: 0 }
  try {
    try {
      for await (const bytes of chunksOf(job.body, job.partSize)) {
        if (failure) break
        const number = ++count
        const have = done.get(number)
        if (have && sameBytes(have, bytes)) {
          result.reused++
          continue
        }
        done.delete(number)
        while (inflight.size >= job.queueSize && !failure) await Promise.race(inflight)
        if (failure) break
        const p: Promise<void> = uploadPart(job, cp.uploadId, number, bytes)
          .then((part) => {
            result.sent++
            done.set(number, part)
            return save()
          })
          .catch((err: unknown) => void (failure ??= err))
          .finally(() => inflight.delete(p))
        inflight.add(p)
      }
    } catch (err) {
      failure ??= err // the body failed: unreadable, or not the bytes `meta` promised
    }
    await Promise.all(inflight)
    await saving
    if (failure) throw failure as Error
    const parts = [...done.values()]
      .filter((p) => p.number <= count)
      .sort((a, b) => a.number - b.number)
      .map((p) => ({
        PartNumber: p.number,
        ETag: p.etag,
        ...(p.checksum ? { ChecksumCRC32: p.checksum } : {}),
      }))
    const r = await job.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: job.bucket,
        Key: job.fullKey,
        UploadId: cp.uploadId,
        MultipartUpload: { Parts: parts },
      }),
      sendOptions(job.signal),
    )
    await job.resume?.clear()
    result.etag = unquote(r.ETag)
    return result
  } catch (err) {
    throw await failed(job, cp, err)
  }
}

/** Decides what a failure leaves behind and turns it into a classified error. */
async function failed(job: MultipartJob, cp: UploadCheckpoint, err: unknown): Promise<SkeinError> {
  if (job.signal?.aborted) {
    if (!job.resume) await abortQuietly(job, cp)
    return abortError(job.signal)
  }
  if (isNoSuchUpload(err)) {
    // The upload vanished (aborted elsewhere, or expired by a lifecycle rule): start over next time.
    await job.resume?.clear()
    return new SkeinError(
      'TRANSIENT',
      `S3 multipart upload of ${job.where} no longer exists on the server; retry to upload it from the start.`,
      { cause: err, retryable: true },
    )
  }
  // Bad bytes are never resumed; without a resume store nothing would ever complete the upload.
  const badBody = isSkeinError(err) && err.code === 'HASH_MISMATCH'
  if (badBody || !job.resume) {
    await abortQuietly(job, cp)
    await job.resume?.clear()
  }
  return s3Error(err, 'upload', job.where)
}

async function abortQuietly(job: MultipartJob, cp: UploadCheckpoint): Promise<void> {
  await job.client
    .send(
      new AbortMultipartUploadCommand({
        Bucket: job.bucket,
        Key: job.fullKey,
        UploadId: cp.uploadId,
      }),
    )
    .catch(() => undefined) // best effort; a bucket lifecycle rule is the backstop
}

async function create(job: MultipartJob): Promise<UploadCheckpoint> {
  let uploadId: string | undefined
  try {
    const r = await job.client.send(
      new CreateMultipartUploadCommand({
        Bucket: job.bucket,
        Key: job.fullKey,
        Metadata: job.metadata,
        ...(job.checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
      sendOptions(job.signal),
    )
    uploadId = r.UploadId
  } catch (err) {
    if (job.signal?.aborted) throw abortError(job.signal)
    throw s3Error(err, 'start the multipart upload of', job.where)
  }
  if (!uploadId)
    throw new SkeinError(
      'IO',
      `S3 returned no UploadId for the multipart upload of ${job.where}; check that the endpoint is S3-compatible.`,
    )
  const cp: UploadCheckpoint = {
    key: job.key,
    uploadId,
    size: job.meta.size,
    sha256: job.meta.sha256,
    partSize: job.partSize,
    parts: [],
  }
  await job.resume?.save(cp) // recorded before any part, so a kill never orphans it unknowingly
  return cp
}

/**
 * Parts of an earlier attempt that may be reused, or undefined when that attempt
 * cannot be resumed (other bytes, other part size, or gone from the server).
 */
async function reusableParts(
  job: MultipartJob,
  cp: UploadCheckpoint,
): Promise<Map<number, UploadedPart> | undefined> {
  if (
    cp.key !== job.key ||
    cp.size !== job.meta.size ||
    cp.sha256 !== job.meta.sha256 ||
    cp.partSize !== job.partSize
  )
    return undefined
  const listed = new Map<number, UploadedPart>()
  try {
    let marker: string | undefined
    do {
      const r = await job.client.send(
        new ListPartsCommand({
          Bucket: job.bucket,
          Key: job.fullKey,
          UploadId: cp.uploadId,
          PartNumberMarker: marker,
        }),
        sendOptions(job.signal),
      )
      for (const p of r.Parts ?? [])
        if (p.PartNumber !== undefined && p.ETag)
          listed.set(p.PartNumber, {
            number: p.PartNumber,
            etag: unquote(p.ETag) as string,
            size: p.Size ?? 0,
            ...(p.ChecksumCRC32 ? { checksum: p.ChecksumCRC32 } : {}),
          })
      marker = r.IsTruncated ? r.NextPartNumberMarker : undefined
    } while (marker)
  } catch (err) {
    if (job.signal?.aborted) throw abortError(job.signal)
    if (isNoSuchUpload(err)) return undefined
    // A server without ListParts (s3rver): trust the checkpoint, whose parts are
    // still checked against the local bytes before being reused.
    if (isUnsupported(err)) return new Map(cp.parts.map((p) => [p.number, p]))
    throw s3Error(err, 'list the stored parts of', job.where)
  }
  return listed
}

/** True when stored part `p` holds `bytes` (by size, and by MD5 where the ETag is one). */
function sameBytes(p: UploadedPart, bytes: Buffer): boolean {
  if (p.size !== bytes.length) return false
  if (!MD5_ETAG.test(p.etag)) return true // an encrypted part's ETag is opaque: size and whole-file hash must do
  return createHash('md5').update(bytes).digest('hex') === p.etag
}

async function uploadPart(
  job: MultipartJob,
  uploadId: string,
  number: number,
  bytes: Buffer,
): Promise<UploadedPart> {
  const r = await job.client.send(
    new UploadPartCommand({
      Bucket: job.bucket,
      Key: job.fullKey,
      UploadId: uploadId,
      PartNumber: number,
      Body: bytes,
      ContentLength: bytes.length,
      ...(job.checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
    }),
    sendOptions(job.signal),
  )
  if (!r.ETag)
    throw new SkeinError(
      'IO',
      `S3 returned no ETag for part ${number} of ${job.where}; check that the endpoint is S3-compatible (and, in a browser, that CORS exposes ETag).`,
    )
  return {
    number,
    etag: unquote(r.ETag) as string,
    size: bytes.length,
    ...(r.ChecksumCRC32 ? { checksum: r.ChecksumCRC32 } : {}),
  }
}

/** Aborts the upload a checkpoint describes; an upload that no longer exists is fine. */
export async function abortMultipart(
  client: S3Client,
  bucket: string,
  fullKey: string,
  cp: UploadCheckpoint,
  o: { where: string; signal: AbortSignal | undefined },
): Promise<void> {
  try {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey, UploadId: cp.uploadId }),
      sendOptions(o.signal),
    )
  } catch (err) {
    if (isNoSuchUpload(err)) return
    if (o.signal?.aborted) throw abortError(o.signal)
    throw s3Error(err, 'abort the multipart upload of', o.where)
  }
}
