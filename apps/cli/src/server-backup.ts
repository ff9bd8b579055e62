/**
 * Server-side snapshots (`skein serve --backup-to`): materializes every
 * workspace — the WorkspaceCrdt plus each note's body document and binary
 * blobs — into a staging folder, then takes a snapshot of it. Backups need no
 * device online. Staged files are only rewritten when their content changed
 * and carry the entry's mtime, so a snapshot re-hashes only what changed.
 *
 * A backup costs what changed since the last one: the store's change feed says
 * which documents were written since the snapshot, so a workspace with nothing
 * new takes no snapshot, and only changed bodies and blobs are read and staged.
 * What was staged (path → body or blob) and the feed position of the last
 * snapshot are kept beside the stage (`.state/<workspace>.json`), so this holds
 * across server restarts too.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, stat, utimes, writeFile, readdir, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import * as Y from 'yjs'
import { atomicWriteFile, backup, type CloudSyncProvider } from '@skein/cloud'
import {
  docWorkspace,
  type BlobStore,
  type DeviceId,
  type DocStore,
  type Logger,
} from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'

async function loadDoc(store: DocStore, name: string): Promise<Y.Doc | undefined> {
  const stored = await store.load(name)
  if (!stored) return undefined
  const doc = new Y.Doc()
  for (const u of stored.updates) Y.applyUpdate(doc, u)
  return doc
}

/**
 * Writes `text` to `path` unless it already holds exactly that; returns true when
 * written. The file gets the entry's mtime, unless that is not newer than the
 * version it replaces: a body can change without its entry (an edit in the
 * browser), and a snapshot re-hashes only files whose size or mtime changed, so
 * such a file keeps the time it was staged.
 */
async function stageText(path: string, text: string, mtime: number): Promise<boolean> {
  const existing = await readFile(path, 'utf8').catch(() => undefined)
  if (existing === text) return false
  const before = existing === undefined ? undefined : (await stat(path)).mtimeMs
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path + '.skein-stage', text)
  await rename(path + '.skein-stage', path)
  if (mtime > 0 && (before === undefined || mtime > before))
    await utimes(path, mtime / 1000, mtime / 1000)
  return true
}

/** Removes staged files that no longer exist in the workspace. */
async function prune(dir: string, keep: Set<string>, prefix = ''): Promise<void> {
  for (const ent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${ent.name}` : ent.name
    if (ent.isDirectory()) {
      if (!keep.has(rel)) await rm(join(dir, ent.name), { recursive: true, force: true })
      else await prune(join(dir, ent.name), keep, rel)
    } else if (!keep.has(rel)) await rm(join(dir, ent.name), { force: true })
  }
}

/** What one workspace's stage holds: staged path → `text:<file id>` or `blob:<sha-256>`. */
export type StagedFiles = Map<string, string>

/** The stage of the last snapshot of a workspace (see the file comment). */
export interface BackupState {
  /** The repository location it went to (another location starts over). */
  target: string
  /** Change-feed head the snapshot covers: every write up to it is in it. */
  head: number
  snapshot: string
  files: number
  staged: StagedFiles
}

/** True when `path` exists (the stage may have been cleaned by hand). */
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

/**
 * Materializes one workspace into `stage`; returns the number of files and what
 * was staged. With `previous` (what the stage held) and `changed` (documents
 * written since), a file staged from the same body or blob, whose document did
 * not change and which is still there, is not read again.
 */
export async function materializeWorkspace(o: {
  store: DocStore
  blobs: BlobStore | undefined
  workspace: string
  stage: string
  logger: Logger
  previous?: StagedFiles
  changed?: ReadonlySet<string>
}): Promise<{ files: number; staged: StagedFiles }> {
  const staged: StagedFiles = new Map()
  const doc = await loadDoc(o.store, o.workspace)
  if (!doc) return { files: 0, staged }
  const ws = new WorkspaceCrdt(doc, { device: 'server-backup' as DeviceId })
  const keep = new Set<string>()
  let files = 0
  const unchanged = async (path: string, target: string, key: string, docName?: string) =>
    o.previous?.get(path) === key &&
    o.changed !== undefined &&
    (docName === undefined || !o.changed.has(docName)) &&
    (await exists(target))
  try {
    for (const [path, id] of ws.pathMap()) {
      const e = ws.get(id)
      if (!e) continue
      keep.add(path)
      const target = join(o.stage, ...path.split('/'))
      if (e.kind === 'folder') {
        await mkdir(target, { recursive: true })
        continue
      }
      files++
      if (e.kind === 'text') {
        const name = `${o.workspace}/${id}`
        const key = `text:${id}`
        staged.set(path, key)
        if (await unchanged(path, target, key, name)) continue
        const body = await loadDoc(o.store, name)
        const gen = body?.getMap('meta').get('gen')
        if (body && gen !== undefined && gen !== e.gen)
          o.logger.warn('backup: body generation differs from the entry; using the stored body', {
            workspace: o.workspace,
            path,
          })
        await stageText(target, body ? body.getText('body').toJSON() : '', e.mtime)
        body?.destroy()
      } else if (e.blob && o.blobs) {
        const key = `blob:${e.blob}`
        staged.set(path, key)
        if (await unchanged(path, target, key)) continue
        const blob = await o.blobs.get(o.workspace, e.blob)
        if (!blob) {
          o.logger.warn('backup: blob missing from the blob store; file skipped', {
            workspace: o.workspace,
            path,
          })
          keep.delete(path)
          staged.delete(path)
          files--
          continue
        }
        await mkdir(dirname(target), { recursive: true })
        await pipeline(Readable.from(blob.body), createWriteStream(target + '.skein-stage'))
        await rename(target + '.skein-stage', target)
        if (e.mtime > 0) await utimes(target, e.mtime / 1000, e.mtime / 1000)
      }
    }
    await prune(o.stage, keep)
  } finally {
    ws.destroy()
    doc.destroy()
  }
  return { files, staged }
}

/** Most feed entries read to learn what changed; past it the workspace is staged whole. */
const CHANGES_LIMIT = 10_000

/** Where the state of `workspace`'s last snapshot is kept. */
const statePath = (stageRoot: string, workspace: string) =>
  join(stageRoot, '.state', `${workspace}.json`)

async function readState(stageRoot: string, workspace: string): Promise<BackupState | undefined> {
  try {
    const raw = JSON.parse(await readFile(statePath(stageRoot, workspace), 'utf8')) as {
      target?: unknown
      head?: unknown
      snapshot?: unknown
      files?: unknown
      staged?: unknown
    }
    if (
      typeof raw.target !== 'string' ||
      typeof raw.head !== 'number' ||
      typeof raw.snapshot !== 'string' ||
      typeof raw.files !== 'number' ||
      !Array.isArray(raw.staged)
    )
      return undefined
    return {
      target: raw.target,
      head: raw.head,
      snapshot: raw.snapshot,
      files: raw.files,
      staged: new Map(raw.staged as [string, string][]),
    }
  } catch {
    return undefined // none yet, or unreadable: the next backup stages everything
  }
}

async function writeState(stageRoot: string, workspace: string, s: BackupState): Promise<void> {
  await atomicWriteFile(
    statePath(stageRoot, workspace),
    JSON.stringify({ ...s, staged: [...s.staged] }),
  )
}

/** What a backup did with one workspace. */
export type WorkspaceBackup =
  | { workspace: string; outcome: 'snapshot'; snapshot: string; files: number; hashed: number }
  | { workspace: string; outcome: 'unchanged'; snapshot: string; files: number }
  | { workspace: string; outcome: 'failed'; error: string }

/**
 * Takes one snapshot of every workspace in the store that changed since its last
 * one, each into its own repository (`providerFor`). A workspace that fails is
 * reported and retried at the next backup; the others go on.
 */
export async function backupAllWorkspaces(o: {
  store: DocStore
  blobs: BlobStore | undefined
  providerFor: (workspace: string) => CloudSyncProvider
  /** The repositories' location (`--backup-to`), kept with the state. */
  target: string
  stageRoot: string
  logger: Logger
}): Promise<WorkspaceBackup[]> {
  const names = await o.store.list()
  const workspaces = [...new Set(names.map(docWorkspace))].sort()
  const out: WorkspaceBackup[] = []
  for (const workspace of workspaces) {
    try {
      const kept = await readState(o.stageRoot, workspace)
      const previous = kept?.target === o.target ? kept : undefined
      // the head is read first: whatever is written while staging is newer and goes in the next one
      const page = await o.store.changes(workspace, previous?.head ?? 0, CHANGES_LIMIT)
      if (previous && page.head === previous.head) {
        out.push({
          workspace,
          outcome: 'unchanged',
          snapshot: previous.snapshot,
          files: previous.files,
        })
        continue
      }
      const changed = previous && !page.more ? new Set(page.changes.map((c) => c.doc)) : undefined
      const stage = join(o.stageRoot, workspace)
      await mkdir(stage, { recursive: true })
      const { files, staged } = await materializeWorkspace({
        ...o,
        workspace,
        stage,
        ...(previous && changed ? { previous: previous.staged, changed } : {}),
      })
      const r = await backup({
        provider: o.providerFor(workspace),
        source: stage,
        label: `server:${workspace}`,
      })
      await writeState(o.stageRoot, workspace, {
        target: o.target,
        head: page.head,
        snapshot: r.snapshot.id,
        files,
        staged,
      })
      out.push({
        workspace,
        outcome: 'snapshot',
        snapshot: r.snapshot.id,
        files,
        hashed: r.filesHashed,
      })
    } catch (err) {
      out.push({ workspace, outcome: 'failed', error: (err as Error).message })
    }
  }
  return out
}
