/** A small seeded PRNG (mulberry32) so fuzz tests are reproducible. */
export interface Rng {
  /** Float in [0, 1). */
  next(): number
  /** Integer in [0, n). */
  int(n: number): number
  /** True with probability p. */
  chance(p: number): boolean
  /** A random element of a non-empty array. */
  pick<T>(items: readonly T[]): T
  readonly seed: number
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick() needs a non-empty array')
      return items[int(items.length)] as T
    },
  }
}

/**
 * The seed for a fuzz test: `SKEIN_SEED` if set, else random. Always printed, so a
 * failure can be replayed with `SKEIN_SEED=<n> pnpm test`.
 */
export function fuzzSeed(label: string): number {
  const env = globalThis.process?.env?.SKEIN_SEED
  const seed = env ? Number(env) : Math.floor(Math.random() * 2 ** 31)
  console.log(`[fuzz] ${label}: seed=${seed} (replay with SKEIN_SEED=${seed})`)
  return seed
}

/** Iteration count: modest in CI, larger under `pnpm test:extensive`. */
export function fuzzIterations(normal: number, extensive = normal * 20): number {
  return globalThis.process?.env?.SKEIN_EXTENSIVE ? extensive : normal
}
