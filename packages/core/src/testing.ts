/** Test support shared by every package (`@skein/core/testing`). */
export { createRng, fuzzSeed, fuzzIterations } from './testing/prng.js'
export type { Rng } from './testing/prng.js'
