import { SkeinError, isSkeinError } from '@skein/core'

/** How an operation is retried after a retryable failure. */
export interface RetryOptions {
  /** Attempts in total, including the first (default 5: rides out a brief outage). */
  attempts: number
  /** First back-off delay in ms (default 100), doubled each attempt, with full jitter. */
  baseDelayMs: number
  /** Upper bound of one delay in ms (default 5000), so a run never stalls for long. */
  maxDelayMs: number
}

/** Defaults for {@link withRetry}. */
export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  attempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
}

/** True when `err` is worth retrying (a retryable `SkeinError`). */
export function isRetryable(err: unknown): boolean {
  return isSkeinError(err) && err.retryable
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(abortError(signal))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The error to throw when `signal` aborted. */
export function abortError(signal?: AbortSignal): SkeinError {
  return new SkeinError('CLOSED', 'The cloud operation was cancelled; run it again to continue.', {
    cause: signal?.reason,
    retryable: false,
  })
}

/**
 * Runs `fn`, retrying retryable failures with exponential back-off and full
 * jitter. Non-retryable errors and aborts are thrown at once.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: Partial<RetryOptions> & { signal?: AbortSignal | undefined } = {},
): Promise<T> {
  const o = { ...DEFAULT_RETRY_OPTIONS, ...options }
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw abortError(options.signal)
    try {
      return await fn(attempt)
    } catch (err) {
      if (attempt >= o.attempts || !isRetryable(err) || options.signal?.aborted) throw err
      const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1))
      await sleep(Math.random() * cap, options.signal)
    }
  }
}
