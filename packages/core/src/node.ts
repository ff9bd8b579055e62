/**
 * Node-only helpers (`@skein/core/node`): synchronous and streaming sha-256.
 * Browser code must not import this entry.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { ContentHash } from './ids.js'

/** sha-256 hex of bytes or a string's UTF-8, synchronously. */
export function sha256HexSync(data: Uint8Array | string): ContentHash {
  return createHash('sha256').update(data).digest('hex') as ContentHash
}

/** Streams a file through sha-256 without holding it in memory. */
export async function hashFile(path: string): Promise<{ hash: ContentHash; size: number }> {
  const h = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer
    size += buf.length
    h.update(buf)
  }
  return { hash: h.digest('hex') as ContentHash, size }
}
