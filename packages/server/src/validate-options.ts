/** Checks {@link SyncServerOptions} once, in the constructor, so a typo fails loudly at start-up. */
import { SkeinError } from '@skein/core'
import { isLoopback } from './auth.js'
import type { SyncServerOptions } from './options.js'

const invalid = (message: string) => new SkeinError('INVALID_INPUT', message)

/** Options that must be whole numbers ≥ their minimum. */
const COUNTS: [keyof SyncServerOptions, number][] = [
  ['maxPayload', 1],
  ['maxBlobBytes', 0],
  ['maxDocsPerConnection', 1],
  ['maxConnections', 1],
  ['messageRate', 1],
  ['messageBurst', 1],
  ['awarenessRate', 1],
  ['maxAwarenessBytes', 1],
  ['pingIntervalMs', 1],
  ['authTimeoutMs', 1],
  ['maxBufferedBytes', 1],
  ['evictAfterMs', 0],
  ['compactAfterUpdates', 1],
  ['storeIntervalMs', 0],
  ['writeIntervalMs', 0],
  ['shutdownTimeoutMs', 0],
]

/** True when `o` is exactly a serialized origin (`scheme://host[:port]`, as browsers send it). */
function isOrigin(o: unknown): boolean {
  if (typeof o !== 'string') return false
  try {
    return new URL(o).origin === o
  } catch {
    return false
  }
}

/** Throws `INVALID_INPUT` naming the option, the value and what to use instead. */
export function validateOptions(o: SyncServerOptions): void {
  if (typeof o.host !== 'string' || o.host === '')
    throw invalid(`SyncServer option host must be an interface address, got ${String(o.host)}.`)
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535)
    throw invalid(`SyncServer option port must be 0…65535 (0 = any free port), got ${o.port}.`)
  for (const [name, min] of COUNTS) {
    const v = o[name]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw invalid(
        `SyncServer option ${name} must be a whole number ≥ ${min}, got ${typeof v === 'number' ? v : JSON.stringify(v)}.`,
      )
  }
  const auth = o.auth as { mode?: unknown; secret?: unknown } | undefined
  if (auth?.mode === 'token') {
    if (typeof auth.secret !== 'string' || auth.secret.length < 16)
      throw invalid(
        'SyncServer auth secret is too short: use at least 16 random characters (e.g. `openssl rand -hex 32`).',
      )
  } else if (auth?.mode !== 'open') {
    throw invalid("SyncServer option auth must be { mode: 'open' } or { mode: 'token', secret }.")
  }
  if (o.auth.mode === 'open' && !isLoopback(o.host)) {
    throw invalid(
      `Refusing open (unauthenticated) mode on ${o.host}: bind to 127.0.0.1, or configure auth: { mode: 'token', secret }.`,
    )
  }
  if (!Array.isArray(o.allowedOrigins))
    throw invalid('SyncServer option allowedOrigins must be an array of origins.')
  for (const origin of o.allowedOrigins) {
    if (!isOrigin(origin))
      throw invalid(
        `SyncServer option allowedOrigins has ${JSON.stringify(origin)}, which is not an origin: use scheme://host[:port] with no path or trailing slash, e.g. https://notes.example.com.`,
      )
  }
}
