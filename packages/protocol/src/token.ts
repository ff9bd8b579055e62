/**
 * Signed access tokens (SPEC.md rules PR-T1…PR-T3): `base64url(json claims) "." base64url(HMAC-SHA256)`.
 * WebCrypto only, so the same helpers run in the CLI, the server and a browser.
 */
import { SkeinError } from '@skein/core'
import type { Scope } from './frame.js'

/** What a token grants. */
export interface TokenClaims {
  /** The one workspace the token opens. */
  workspace: string
  /** `read` may sync and see awareness; `write` may also send updates and blobs. */
  scope: Scope
  /** Expiry, Unix seconds. */
  exp: number
}

/** Result of {@link verifyToken}: the claims, or why the token is refused. */
export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' }

const enc = new TextEncoder()
const dec = new TextDecoder()
const keyCache = new Map<string, Promise<CryptoKey>>()

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret)
  if (!key) {
    if (keyCache.size > 16) keyCache.clear()
    key = globalThis.crypto.subtle.importKey(
      'raw',
      enc.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    )
    keyCache.set(secret, key)
  }
  return key
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    return undefined
  }
}

/** Signs claims with a shared secret (at least 16 characters). */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  if (secret.length < 16) {
    throw new SkeinError(
      'INVALID_INPUT',
      'Token secret is too short: use at least 16 random characters (e.g. `openssl rand -hex 32`).',
    )
  }
  const body = toBase64Url(
    enc.encode(JSON.stringify({ w: claims.workspace, s: claims.scope, e: claims.exp })),
  )
  const sig = await globalThis.crypto.subtle.sign('HMAC', await hmacKey(secret), enc.encode(body))
  return `${body}.${toBase64Url(new Uint8Array(sig))}`
}

/** Verifies a token's signature and expiry (`nowMs` defaults to the clock). Never throws. */
export async function verifyToken(
  secret: string,
  token: string,
  nowMs: number = Date.now(),
): Promise<TokenCheck> {
  const dot = token.indexOf('.')
  if (token.length > 4096 || dot <= 0) return { ok: false, reason: 'malformed' }
  const body = token.slice(0, dot)
  const sig = fromBase64Url(token.slice(dot + 1))
  if (!sig || sig.length !== 32) return { ok: false, reason: 'malformed' }
  const valid = await globalThis.crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    sig as Uint8Array<ArrayBuffer>,
    enc.encode(body),
  )
  if (!valid) return { ok: false, reason: 'bad-signature' }
  let raw: unknown
  try {
    raw = JSON.parse(dec.decode(fromBase64Url(body)))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  const c = raw as { w?: unknown; s?: unknown; e?: unknown }
  if (
    typeof c.w !== 'string' ||
    (c.s !== 'read' && c.s !== 'write') ||
    typeof c.e !== 'number' ||
    !Number.isFinite(c.e)
  ) {
    return { ok: false, reason: 'malformed' }
  }
  if (c.e * 1000 <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: true, claims: { workspace: c.w, scope: c.s, exp: c.e } }
}
