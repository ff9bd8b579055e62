export { LevelDocStore, DEFAULT_LEVEL_DOC_STORE_OPTIONS } from './leveldb-doc-store.js'
export type { LevelDocStoreOptions } from './leveldb-doc-store.js'
