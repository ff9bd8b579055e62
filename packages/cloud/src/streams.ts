import { createHash } from 'node:crypto'
import { SkeinError } from '@skein/core'
import type { ByteStream } from './provider.js'

/** Running sha-256 and byte count of a stream as it passes through. */
export interface HashTap {
  /** The stream to consume instead of the source. */
  stream: ByteStream
  /** sha-256 hex and size; valid once `stream` has been read to the end. */
  result(): { sha256: string; size: number }
}

/** Wraps `source` so its sha-256 and size are computed while it is read. */
export function hashTap(source: ByteStream): HashTap {
  const h = createHash('sha256')
  let size = 0
  let digest: string | undefined
  async function* gen() {
    for await (const chunk of source) {
      h.update(chunk)
      size += chunk.byteLength
      yield chunk
    }
    digest = h.digest('hex')
  }
  return {
    stream: gen(),
    result: () => {
      if (digest === undefined)
        throw new SkeinError('INTERNAL', 'hashTap read before the stream ended.')
      return { sha256: digest, size }
    },
  }
}

/**
 * Passes `source` through and fails at its end with `HASH_MISMATCH` unless the
 * bytes match `expected` (size and sha-256). Consumers that commit only after a
 * clean end (temp+rename, multipart complete) therefore never commit bad bytes.
 */
export async function* verifyStream(
  source: ByteStream,
  expected: { size: number; sha256: string },
  what: string,
): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256')
  let size = 0
  for await (const chunk of source) {
    size += chunk.byteLength
    if (size > expected.size) throw mismatch(what, expected, `more than ${expected.size} bytes`)
    h.update(chunk)
    yield chunk
  }
  const sha256 = h.digest('hex')
  if (size !== expected.size) throw mismatch(what, expected, `${size} bytes`)
  if (sha256 !== expected.sha256) throw mismatch(what, expected, `sha-256 ${sha256.slice(0, 12)}…`)
}

function mismatch(what: string, expected: { size: number; sha256: string }, got: string) {
  return new SkeinError(
    'HASH_MISMATCH',
    `Content of ${what} does not match: expected ${expected.size} bytes with sha-256 ${expected.sha256.slice(0, 12)}…, got ${got}. Nothing was stored; retry (the source may have changed or the transfer was cut short).`,
    { retryable: true, details: { what } },
  )
}

/** Reads a whole stream into one Buffer. */
export async function readAll(source: ByteStream): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const c of source) parts.push(c)
  const only = parts.length === 1 ? parts[0] : undefined
  if (only)
    return Buffer.isBuffer(only) ? only : Buffer.from(only.buffer, only.byteOffset, only.byteLength)
  return Buffer.concat(parts)
}

/** A one-chunk stream over `bytes`. */
export async function* bytesStream(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/**
 * Throttles `source` to about `bytesPerSecond` (a token bucket shared by every
 * stream given the same `bucket`), for the bandwidth-limit option.
 */
export async function* throttle(
  source: ByteStream,
  bucket: RateBucket,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    await bucket.take(chunk.byteLength)
    yield chunk
  }
}

/** A token bucket refilled at a fixed byte rate. */
export class RateBucket {
  private tokens: number
  private last = Date.now()
  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond
  }
  /** Waits until `n` bytes may pass. */
  async take(n: number): Promise<void> {
    for (;;) {
      const now = Date.now()
      this.tokens = Math.min(
        this.bytesPerSecond,
        this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond,
      )
      this.last = now
      if (this.tokens >= Math.min(n, this.bytesPerSecond)) {
        this.tokens -= n
        return
      }
      const wait = ((Math.min(n, this.bytesPerSecond) - this.tokens) / this.bytesPerSecond) * 1000
      await new Promise((r) => setTimeout(r, Math.max(1, wait)))
    }
  }
}
