/**
 * The storage interface every cloud backend implements: a small required core
 * (list, head, download, upload, delete) plus optional capabilities. Providers are
 * dumb: they move bytes by key. Policy (retries, manifests, conflicts) lives in
 * the engine that wraps them.
 */

/** What a provider knows about one stored object. */
export interface ObjectInfo {
  /** The object's key (provider-relative, `/`-separated). */
  key: string
  /** Size in bytes. */
  size: number
  /** The source file's modification time (ms since epoch), when stored with the object. */
  mtime?: number | undefined
  /** sha-256 hex of the content, when stored with the object (absent for foreign objects). */
  sha256?: string | undefined
  /** An opaque version tag that changes whenever the content is replaced. */
  etag?: string | undefined
}

/** Facts the uploader states about a body; the provider verifies size and sha-256. */
export interface UploadMeta {
  /** Exact byte count of the body. */
  size: number
  /** sha-256 hex of the body. A mismatch fails the upload with `HASH_MISMATCH` and stores nothing. */
  sha256: string
  /** Modification time to record (ms since epoch). */
  mtime: number
}

/** A byte stream (a Node `Readable` qualifies). */
export type ByteStream = AsyncIterable<Uint8Array>

/** Per-call options shared by every provider method. */
export interface CallOptions {
  /** Aborts the call; the provider rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/** One part of a multipart upload that the provider has stored. */
export interface UploadedPart {
  /** Part number, from 1. */
  number: number
  /** The provider's tag of the stored part (S3: the part's MD5, hex, unless encrypted with KMS). */
  etag: string
  /** Bytes in the part. */
  size: number
  /** Provider-specific integrity value of the part (S3: its CRC32, when the upload uses checksums). */
  checksum?: string | undefined
}

/**
 * Progress of one multipart upload, written by the provider and kept durably by
 * the caller, so an interrupted upload (a crash, a kill, a failed attempt) can
 * continue instead of starting over.
 */
export interface UploadCheckpoint {
  /** The key being uploaded (as passed to `upload`). */
  key: string
  /** The provider's id of the multipart upload. */
  uploadId: string
  /** Size of the whole body; a resume requires the same. */
  size: number
  /** sha-256 hex of the whole body; a resume requires the same. */
  sha256: string
  /** Bytes per part (all but the last). */
  partSize: number
  /** Parts stored so far. */
  parts: UploadedPart[]
}

/**
 * Where a provider keeps the checkpoint of a resumable upload. The caller owns
 * the storage (durable, one slot per upload); the provider decides what a
 * checkpoint means and whether it can be resumed.
 */
export interface UploadResumeStore {
  /** The checkpoint of an earlier attempt at this upload, if one was saved. */
  load(): Promise<UploadCheckpoint | undefined>
  /** Records progress durably: after creating the upload and after each stored part. */
  save(checkpoint: UploadCheckpoint): Promise<void>
  /** Forgets the checkpoint: the upload completed or was aborted. */
  clear(): Promise<void>
}

/** Options of `upload`: the shared call options plus an optional resume slot. */
export interface UploadOptions extends CallOptions {
  /**
   * Lets a provider with resumable uploads (one that has `abortUpload`) continue
   * an interrupted multipart upload from its checkpoint, sending only missing
   * parts. Providers without the capability ignore it.
   */
  resume?: UploadResumeStore | undefined
}

/** A downloaded object: its metadata and its content as a stream. */
export interface Download {
  info: ObjectInfo
  body: ByteStream
}

/** Preconditions for a conditional write (optional capability). */
export interface WriteCondition {
  /** Write only if the key does not exist yet. */
  ifNoneMatch?: '*'
  /** Write only if the current object has this etag. */
  ifMatch?: string
}

/**
 * A bucket-like store of objects by key. Not-found is `undefined`; every other
 * failure is a `SkeinError` whose `retryable` says whether trying again may help.
 */
export interface CloudSyncProvider {
  /** Short human name for messages, e.g. `folder:/backups` or `s3://bucket/prefix`. */
  readonly name: string
  /** Every object whose key starts with `prefix`, paging internally. Order is unspecified. */
  list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo>
  /** Metadata of one object, or `undefined` when it does not exist. */
  head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined>
  /** The object's content, or `undefined` when it does not exist. */
  download(key: string, options?: CallOptions): Promise<Download | undefined>
  /**
   * Stores `body` under `key`, atomically (readers see the old or the new object,
   * never a partial one). Rejects with `HASH_MISMATCH` when the body does not match
   * `meta.size`/`meta.sha256`, storing nothing. With `options.resume`, a provider
   * that supports it continues an interrupted upload of the same bytes; the whole
   * body is still read and verified, but parts already stored are not sent again.
   */
  upload(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    options?: UploadOptions,
  ): Promise<ObjectInfo>
  /** Removes the object; deleting a missing key succeeds. */
  delete(key: string, options?: CallOptions): Promise<void>
  /** Optional: server-side copy; `undefined` when `from` does not exist. */
  copy?(from: string, to: string, options?: CallOptions): Promise<ObjectInfo | undefined>
  /**
   * Optional: upload that succeeds only when `condition` holds, else rejects with
   * `PRECONDITION_FAILED`. Present only when the backend enforces it.
   */
  uploadIf?(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    condition: WriteCondition,
    options?: CallOptions,
  ): Promise<ObjectInfo>
  /**
   * Optional: makes every completed upload durable (power-loss safe). Callers
   * invoke it before committing state that depends on those uploads.
   */
  flush?(options?: CallOptions): Promise<void>
  /**
   * Optional (resumable uploads): discards the interrupted upload a checkpoint
   * describes, freeing its stored parts. Aborting an upload that no longer exists
   * succeeds. Providers that have it honour `UploadOptions.resume`.
   */
  abortUpload?(checkpoint: UploadCheckpoint, options?: CallOptions): Promise<void>
  /** Optional: releases sockets and file handles. */
  close?(): Promise<void>
}
