import type { RecoveredIntent } from './disk-writer.js'
import { readDiskFile } from './disk-file.js'
import type { StateStore } from './state-store.js'

/**
 * After a crash: a write that reached the disk (completed before the crash or
 * replayed now) holds text the CRDT had at that time, but its base was never
 * recorded. Adopt it as the base, so the next pass sees "disk == base" and
 * brings the newer CRDT text in, instead of mistaking it for a local edit (or,
 * for a new file, for a first-join divergence that makes a conflict copy).
 */
export async function adoptRecoveredWrites(
  store: StateStore,
  recovered: readonly RecoveredIntent[],
  maxTextBytes: number,
): Promise<void> {
  for (const { intent, outcome } of recovered) {
    if (outcome === 'rolled-back' || intent.fileId === undefined) continue
    const disk = readDiskFile(store.root, intent.path, maxTextBytes)
    if (!disk || disk.hash !== intent.hash) continue
    const old = store.getBase(intent.fileId)
    await store.putBase({
      fileId: intent.fileId,
      path: intent.path,
      kind: disk.text === undefined ? 'binary' : 'text',
      ino: disk.ino,
      hash: disk.hash,
      size: disk.size,
      mtimeMs: disk.mtimeMs,
      ctimeMs: disk.ctimeMs,
      birthtimeMs: disk.birthtimeMs,
      ...(disk.text === undefined ? {} : { text: disk.text }),
      ...(old?.gen === undefined ? {} : { gen: old.gen }),
    })
  }
}
