import type { Logger } from '@skein/core'

/** How often work that is still running says so. */
const SLOW_LOG_MS = 10_000

/**
 * Runs `fn`; every 10 s it is still running, logs `message` (debug) with
 * `fields()` and the time so far — how a pass stuck on one file is found.
 */
export async function logIfSlow<T>(
  logger: Logger,
  message: string,
  fields: () => Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const t0 = Date.now()
  const t = setInterval(
    () => logger.debug(message, { ...fields(), ms: Date.now() - t0 }),
    SLOW_LOG_MS,
  )
  t.unref()
  try {
    return await fn()
  } finally {
    clearInterval(t)
  }
}
