/**
 * Blob transfer over HTTP (`fetch`) to `/_skein/v1/blobs/<workspace>/<sha256>`
 * (SPEC.md PR-B1…B3): content-addressed, so uploads are idempotent.
 */
import { SkeinError } from '@skein/core'
import { BLOB_PATH } from '@skein/protocol'

/** Where and as whom to transfer. */
export interface BlobTarget {
  /** Server base URL, `http(s)://host:port` (a `ws(s)://` URL is converted). */
  url: string
  workspace: string
  /** sha-256 hex of the content. */
  hash: string
  token?: string
  /** Aborts the transfer (e.g. a timeout); the request fails with the signal's reason. */
  signal?: AbortSignal
}

/** The HTTP URL of a blob. */
export function blobUrl(t: BlobTarget): string {
  const base = t.url
    .replace(/^ws/, 'http')
    .replace(/\/+$/, '')
    .replace(/\/_skein\/v1$/, '')
  return `${base}${BLOB_PATH}/${encodeURIComponent(t.workspace)}/${t.hash}`
}

function headers(t: BlobTarget): Record<string, string> {
  return t.token ? { authorization: `Bearer ${t.token}` } : {}
}

function fail(status: number, what: string, t: BlobTarget): never {
  const code =
    status === 401
      ? 'NOT_AUTHORIZED'
      : status === 403
        ? 'FORBIDDEN'
        : status === 413
          ? 'TOO_LARGE'
          : status === 422
            ? 'HASH_MISMATCH'
            : status >= 500
              ? 'TRANSIENT'
              : 'IO'
  throw new SkeinError(
    code,
    `Blob ${what} of ${t.workspace}/${t.hash} failed with HTTP ${status}: ${
      status === 422
        ? 're-read the file and retry'
        : status >= 500
          ? 'retry later'
          : 'check the token and address'
    }.`,
  )
}

/** Uploads bytes (or a stream / Blob); the server verifies the hash. Resolves to the stored size. */
export async function uploadBlob(
  t: BlobTarget,
  body: Uint8Array | Blob | ReadableStream<Uint8Array>,
): Promise<number> {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'PUT',
    headers: headers(t),
    body: body as BodyInit,
    ...(t.signal ? { signal: t.signal } : {}),
  }
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) init.duplex = 'half'
  const res = await fetch(blobUrl(t), init)
  if (!res.ok) fail(res.status, 'upload', t)
  return ((await res.json()) as { size: number }).size
}

/** Downloads a blob as a stream; `undefined` when it does not exist. */
export async function downloadBlob(t: BlobTarget): Promise<ReadableStream<Uint8Array> | undefined> {
  const res = await fetch(blobUrl(t), {
    headers: headers(t),
    ...(t.signal ? { signal: t.signal } : {}),
  })
  if (res.status === 404) return undefined
  if (!res.ok || !res.body) fail(res.status, 'download', t)
  return res.body
}

/** Size of a stored blob, or `undefined`. */
export async function blobExists(t: BlobTarget): Promise<number | undefined> {
  const res = await fetch(blobUrl(t), { method: 'HEAD', headers: headers(t) })
  if (res.status === 404) return undefined
  if (!res.ok) fail(res.status, 'lookup', t)
  return Number(res.headers.get('content-length') ?? 0)
}
