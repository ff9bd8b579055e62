import { abortError } from './retry.js'

/**
 * Runs `fn` over `items` with at most `concurrency` in flight. The first error
 * stops new work and is rethrown once running work has settled.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure ??= { err: abortError(signal) }
        return
      }
      const i = next++
      try {
        await fn(items[i] as T, i)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker),
  )
  if (failure) throw failure.err
}
