import { SkeinError } from '@skein/core'
import type { SyncEngineOptions } from './sync-types.js'

const MODES = ['copy', 'mirror', 'move', 'two-way']
const DIRECTIONS = ['up', 'down']
const COMPARES = ['size', 'modtime', 'checksum']
const KEEPS = ['newer', 'older', 'larger', 'smaller', 'path1', 'path2']

function bad(what: string, got: unknown, todo: string): SkeinError {
  return new SkeinError(
    'INVALID_INPUT',
    `SyncEngine option ${what} is ${JSON.stringify(got) ?? String(got)}; ${todo}.`,
  )
}

/** Throws `INVALID_INPUT` naming the option and the fix when `o` cannot work. */
export function validateEngineOptions(o: SyncEngineOptions): void {
  if (typeof o.local !== 'string' || o.local === '')
    throw bad('local', o.local, 'give the folder to sync')
  const p = o.provider as Partial<SyncEngineOptions['provider']> | undefined
  for (const m of ['list', 'head', 'download', 'upload', 'delete'] as const)
    if (typeof p?.[m] !== 'function')
      throw bad('provider', p?.name ?? p, `pass a CloudSyncProvider (it lacks ${m}())`)
  if (!MODES.includes(o.mode)) throw bad('mode', o.mode, `use one of ${MODES.join(', ')}`)
  if (!DIRECTIONS.includes(o.direction))
    throw bad('direction', o.direction, `use one of ${DIRECTIONS.join(', ')}`)
  if (
    !Array.isArray(o.compare) ||
    o.compare.length === 0 ||
    o.compare.some((c) => !COMPARES.includes(c))
  )
    throw bad('compare', o.compare, `use a non-empty list of ${COMPARES.join(', ')}`)
  if (!KEEPS.includes(o.keep)) throw bad('keep', o.keep, `use one of ${KEEPS.join(', ')}`)
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
    throw bad('concurrency', o.concurrency, 'use a whole number of at least 1')
  if (!(o.maxDeletePercent >= 0 && o.maxDeletePercent <= 100))
    throw bad('maxDeletePercent', o.maxDeletePercent, 'use a percentage from 0 to 100')
  if (o.bandwidthLimit !== undefined && !(o.bandwidthLimit > 0))
    throw bad('bandwidthLimit', o.bandwidthLimit, 'use bytes per second above 0, or omit it')
  if (!(o.remoteIndexMaxAgeMs >= 0))
    throw bad(
      'remoteIndexMaxAgeMs',
      o.remoteIndexMaxAgeMs,
      'use milliseconds of at least 0 (0 lists the remote every run)',
    )
  if (!(o.modifyWindowMs >= 0))
    throw bad('modifyWindowMs', o.modifyWindowMs, 'use milliseconds of at least 0')
  if (
    o.retry.attempts !== undefined &&
    !(Number.isInteger(o.retry.attempts) && o.retry.attempts >= 1)
  )
    throw bad('retry.attempts', o.retry.attempts, 'use a whole number of at least 1')
}
