import { readFile } from 'node:fs/promises'
import { SkeinError } from '@skein/core'
import { atomicWriteFile, fsError, isNotFound } from './fs-utils.js'

/** What the last successful sync of one path left on both sides. */
export interface ManifestEntry {
  /** sha-256 of the local file as synced. */
  localHash: string
  /** sha-256 of the remote object as synced. */
  remoteHash: string
  /** Local file mtime (ms) as synced: with `size` and `inode`, the re-hash cache key. */
  localModified: number
  /** Remote object mtime (ms) as synced. */
  remoteModified: number
  /** Remote etag as synced (detects remote changes from a plain listing). */
  etag?: string | undefined
  /** Size in bytes. */
  size: number
  /** Local inode as synced. */
  inode?: number | undefined
}

interface ManifestFile {
  version: 1
  /** Generation of the remote index this state was last reconciled with. */
  remoteGeneration?: string | undefined
  entries: Record<string, ManifestEntry>
}

/**
 * Per-path sync state of one folder ↔ provider pair, persisted atomically
 * (temp + fsync + rename). Change detection on both sides compares against it.
 */
export class SyncManifest {
  private readonly entries: Map<string, ManifestEntry>
  /** Generation of the remote index last reconciled with (undefined: never). */
  remoteGeneration: string | undefined

  private constructor(
    readonly file: string,
    data: ManifestFile,
  ) {
    this.entries = new Map(Object.entries(data.entries))
    this.remoteGeneration = data.remoteGeneration
  }

  /** An empty in-memory manifest (saved to `file` only if asked). */
  static empty(file: string): SyncManifest {
    return new SyncManifest(file, { version: 1, entries: {} })
  }

  /** Loads the manifest at `file` (empty when the file does not exist). */
  static async load(file: string): Promise<SyncManifest> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if (isNotFound(err)) return new SyncManifest(file, { version: 1, entries: {} })
      throw fsError(err, 'read the sync manifest', file)
    }
    let data: ManifestFile
    try {
      data = JSON.parse(text) as ManifestFile
    } catch (err) {
      throw new SkeinError(
        'CORRUPT',
        `Sync manifest ${file} is not valid JSON; delete it to start a fresh (safe, non-deleting) sync.`,
        { cause: err },
      )
    }
    if (data.version !== 1 || typeof data.entries !== 'object')
      throw new SkeinError(
        'CORRUPT',
        `Sync manifest ${file} has an unknown format; delete it to start a fresh sync.`,
      )
    return new SyncManifest(file, data)
  }

  get size(): number {
    return this.entries.size
  }
  get(path: string): ManifestEntry | undefined {
    return this.entries.get(path)
  }
  set(path: string, entry: ManifestEntry): void {
    this.entries.set(path, entry)
  }
  delete(path: string): void {
    this.entries.delete(path)
  }
  paths(): IterableIterator<string> {
    return this.entries.keys()
  }
  /** Applies a recorded effect (`null` forgets the path). */
  apply(path: string, entry: ManifestEntry | null): void {
    if (entry) this.entries.set(path, entry)
    else this.entries.delete(path)
  }

  /** Writes the manifest atomically. */
  async save(): Promise<void> {
    const data: ManifestFile = {
      version: 1,
      remoteGeneration: this.remoteGeneration,
      entries: Object.fromEntries(this.entries),
    }
    await atomicWriteFile(this.file, JSON.stringify(data))
  }
}
