export { SkeinError, isSkeinError } from './errors.js'
export type { SkeinErrorCode, SkeinErrorOptions } from './errors.js'
export {
  newFileId,
  isFileId,
  isContentHash,
  asWorkspaceId,
  asDeviceId,
  asFileId,
  asContentHash,
} from './ids.js'
export type { Brand, WorkspaceId, FileId, DeviceId, ContentHash } from './ids.js'
export { noopLogger, createConsoleLogger, redact } from './logger.js'
export type { Logger, LogFields, LogLevel, ConsoleLoggerOptions } from './logger.js'
export { sha256Hex, toHex, utf8 } from './hash.js'
export {
  normalizePath,
  normalizeName,
  pathKey,
  parentPath,
  baseName,
  splitExt,
  joinPath,
  MAX_PATH_BYTES,
  MAX_SEGMENT_BYTES,
} from './paths.js'
export { systemClock, compactTimestamp } from './clock.js'
export type { Clock } from './clock.js'
export { docWorkspace } from './store/doc-store.js'
export type { DocStore, StoredDoc, DocChange, ChangePage } from './store/doc-store.js'
export { MemoryDocStore } from './store/memory-doc-store.js'
export type { BlobStore, BlobInfo, BlobBody } from './store/blob-store.js'
export { MemoryBlobStore } from './store/memory-blob-store.js'
export { DEFAULT_IGNORE_PATTERNS, IGNORE_FILE } from './ignore.js'
