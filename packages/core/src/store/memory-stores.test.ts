import { runBlobStoreContract, runDocStoreContract } from '../testing.js'
import { MemoryBlobStore } from './memory-blob-store.js'
import { MemoryDocStore } from './memory-doc-store.js'

runDocStoreContract('memory', async () => ({ store: new MemoryDocStore() }))
runBlobStoreContract('memory', async () => ({ store: new MemoryBlobStore() }))
