import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto'
import { SkeinError } from '@skein/core'

const MAGIC = Buffer.from('SKE1')

/** scrypt parameters stored (with the salt) in the repository config. */
export interface KdfParams {
  salt: string
  N: number
  r: number
  p: number
}

/** Fresh scrypt parameters: N=2^15, r=8, p=1 (about 0.1 s and 32 MiB per derivation). */
export function newKdfParams(): KdfParams {
  return { salt: randomBytes(16).toString('base64'), N: 2 ** 15, r: 8, p: 1 }
}

/** Derives the 32-byte AES-256 key from a passphrase. */
export function deriveKey(passphrase: string, k: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFC'),
      Buffer.from(k.salt, 'base64'),
      32,
      { N: k.N, r: k.r, p: k.p, maxmem: 256 * k.N * k.r },
      (err, key) =>
        err
          ? reject(
              new SkeinError(
                'INVALID_INPUT',
                `Could not derive the snapshot key (${err.message}); check the repository config.`,
                { cause: err },
              ),
            )
          : resolve(key),
    ),
  )
}

/** AES-256-GCM: `SKE1 | iv(12) | ciphertext | tag(16)`, with `aad` bound in (so a blob cannot pass for a manifest). */
export function encrypt(key: Buffer, plain: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(Buffer.from(aad))
  const body = Buffer.concat([c.update(plain), c.final()])
  return Buffer.concat([MAGIC, iv, body, c.getAuthTag()])
}

/** Reverses {@link encrypt}; a wrong key or tampered bytes throw `what`'s error. */
export function decrypt(key: Buffer, data: Buffer, aad: string, what: string): Buffer {
  if (data.length < 32 || !data.subarray(0, 4).equals(MAGIC))
    throw new SkeinError(
      'CORRUPT',
      `${what} is not an encrypted Skein object; the repository may be damaged or unencrypted.`,
    )
  const d = createDecipheriv('aes-256-gcm', key, data.subarray(4, 16))
  d.setAAD(Buffer.from(aad))
  d.setAuthTag(data.subarray(data.length - 16))
  try {
    return Buffer.concat([d.update(data.subarray(16, data.length - 16)), d.final()])
  } catch (err) {
    throw new SkeinError(
      'CORRUPT',
      `${what} failed authentication: it was altered or damaged; restore another snapshot.`,
      { cause: err },
    )
  }
}

/** Blob name for content `sha256`: the hash itself, or a keyed HMAC so the store does not reveal content hashes. */
export function blobName(sha256: string, key: Buffer | undefined): string {
  return key ? createHmac('sha256', key).update(sha256).digest('hex') : sha256
}
