/** Test support shared by every package (`@skein/core/testing`). */
export { createRng, fuzzSeed, fuzzIterations } from './testing/prng.js'
export type { Rng } from './testing/prng.js'
export { runDocStoreContract } from './testing/doc-store-contract.js'
export type { DocStoreFixture } from './testing/doc-store-contract.js'
export { runBlobStoreContract } from './testing/blob-store-contract.js'
export type { BlobStoreFixture } from './testing/blob-store-contract.js'
