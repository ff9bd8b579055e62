/**
 * Server-side snapshots (`skein serve --backup-to`): materializes every
 * workspace — the WorkspaceCrdt plus each note's body document and binary
 * blobs — into a staging folder, then takes a snapshot of it. Backups need no
 * device online. Staged files are only rewritten when their content changed
 * and carry the entry's mtime, so a snapshot re-hashes only what changed.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, utimes, writeFile, readdir, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import * as Y from 'yjs'
import { backup, type CloudSyncProvider } from '@skein/cloud'
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

/** Writes `text` to `path` unless it already holds exactly that; sets mtime. Returns true when written. */
async function stageText(path: string, text: string, mtime: number): Promise<boolean> {
  const existing = await readFile(path, 'utf8').catch(() => undefined)
  if (existing === text) return false
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path + '.skein-stage', text)
  await rename(path + '.skein-stage', path)
  if (mtime > 0) await utimes(path, mtime / 1000, mtime / 1000)
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

/** Materializes one workspace into `stage`; returns the number of files. */
export async function materializeWorkspace(o: {
  store: DocStore
  blobs: BlobStore | undefined
  workspace: string
  stage: string
  logger: Logger
}): Promise<number> {
  const doc = await loadDoc(o.store, o.workspace)
  if (!doc) return 0
  const ws = new WorkspaceCrdt(doc, { device: 'server-backup' as DeviceId })
  const keep = new Set<string>()
  let files = 0
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
      const body = await loadDoc(o.store, `${o.workspace}/${id}`)
      const gen = body?.getMap('meta').get('gen')
      if (body && gen !== undefined && gen !== e.gen)
        o.logger.warn('backup: body generation differs from the entry; using the stored body', {
          workspace: o.workspace,
          path,
        })
      await stageText(target, body ? body.getText('body').toJSON() : '', e.mtime)
      body?.destroy()
    } else if (e.blob && o.blobs) {
      const blob = await o.blobs.get(o.workspace, e.blob)
      if (!blob) {
        o.logger.warn('backup: blob missing from the blob store; file skipped', {
          workspace: o.workspace,
          path,
        })
        keep.delete(path)
        continue
      }
      await mkdir(dirname(target), { recursive: true })
      await pipeline(Readable.from(blob.body), createWriteStream(target + '.skein-stage'))
      await rename(target + '.skein-stage', target)
      if (e.mtime > 0) await utimes(target, e.mtime / 1000, e.mtime / 1000)
    }
  }
  await prune(o.stage, keep)
  ws.destroy()
  doc.destroy()
  return files
}

/** Takes one snapshot of every workspace in the store, each into its own repository (`providerFor`). */
export async function backupAllWorkspaces(o: {
  store: DocStore
  blobs: BlobStore | undefined
  providerFor: (workspace: string) => CloudSyncProvider
  stageRoot: string
  logger: Logger
}): Promise<{ workspace: string; snapshot: string; files: number }[]> {
  const names = await o.store.list()
  const workspaces = [...new Set(names.map(docWorkspace))].sort()
  const out: { workspace: string; snapshot: string; files: number }[] = []
  for (const workspace of workspaces) {
    const stage = join(o.stageRoot, workspace)
    await mkdir(stage, { recursive: true })
    const files = await materializeWorkspace({ ...o, workspace, stage })
    const r = await backup({
      provider: o.providerFor(workspace),
      source: stage,
      label: `server:${workspace}`,
    })
    out.push({ workspace, snapshot: r.snapshot.id, files })
  }
  return out
}
