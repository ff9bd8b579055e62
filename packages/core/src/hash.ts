import type { ContentHash } from './ids.js'

const encoder = new TextEncoder()

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/** sha-256 of bytes or of a string's UTF-8, via WebCrypto (browser and Node). */
export async function sha256Hex(data: Uint8Array | string): Promise<ContentHash> {
  const bytes = typeof data === 'string' ? utf8(data) : data
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  return toHex(new Uint8Array(digest)) as ContentHash
}
