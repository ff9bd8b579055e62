import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FolderProvider, listSnapshots, restore } from '@skein/cloud'
import {
  MemoryBlobStore,
  MemoryDocStore,
  noopLogger,
  type ContentHash,
  type DeviceId,
} from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import { backupAllWorkspaces } from './server-backup.js'

const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-srv-backup-'))
  temps.push(d)
  return d
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex') as ContentHash

/** A workspace as devices leave it in the server's store: the tree document, one body per note, blobs. */
async function seed() {
  const store = new MemoryDocStore()
  const blobs = new MemoryBlobStore()
  const tree = new Y.Doc()
  const ws = new WorkspaceCrdt(tree, { device: 'laptop' as DeviceId })
  const bodies = new Map<string, Y.Doc>()
  const note = async (path: string, text: string) => {
    const id = ws.createFile(path, {
      kind: 'text',
      hash: sha(text),
      size: text.length,
      mtime: 1e12,
    })
    const body = new Y.Doc()
    body.getText('body').insert(0, text)
    bodies.set(path, body)
    await store.append(`team/${id}`, Y.encodeStateAsUpdate(body))
  }
  await note('a.md', 'alpha\n')
  await note('dir/b.md', 'beta\n')
  const pic = new Uint8Array([1, 2, 3, 250])
  await blobs.put(
    'team',
    sha(pic),
    (async function* () {
      yield pic
    })(),
  )
  ws.createFile('pic.bin', { kind: 'binary', hash: sha(pic), blob: sha(pic), size: 4, mtime: 1e12 })
  let sent = Y.encodeStateVector(tree)
  await store.append('team', Y.encodeStateAsUpdate(tree))
  /** Stores what changed in the tree since the last call. */
  const storeTree = async () => {
    await store.append('team', Y.encodeStateAsUpdate(tree, sent))
    sent = Y.encodeStateVector(tree)
  }
  /** An edit of a note's body alone, as the browser editor makes it (the entry is not touched). */
  const edit = async (path: string, from: number, text: string) => {
    const body = bodies.get(path)!
    const sv = Y.encodeStateVector(body)
    body.getText('body').delete(from, text.length)
    body.getText('body').insert(from, text)
    await store.append(`team/${ws.findByPath(path)!}`, Y.encodeStateAsUpdate(body, sv))
  }
  return { store, blobs, ws, storeTree, edit }
}

describe('server backup (skein serve --backup-to)', () => {
  it('SB1 snapshots only what changed: nothing new takes no snapshot; a body edited alone is read again and its snapshot restores it', async () => {
    const { store, blobs, ws, storeTree, edit } = await seed()
    const repoRoot = await temp()
    const stageRoot = await temp()
    const provider = new FolderProvider(join(repoRoot, 'team'), { fsync: 'none' })
    const loads: string[] = []
    const counted = Object.create(store) as MemoryDocStore
    counted.load = (doc) => (loads.push(doc), store.load(doc))
    const run = () =>
      backupAllWorkspaces({
        store: counted,
        blobs,
        providerFor: () => provider,
        target: repoRoot,
        stageRoot,
        logger: noopLogger,
      })

    const first = await run()
    expect(first).toMatchObject([{ workspace: 'team', outcome: 'snapshot', files: 3 }])
    expect(loads).toHaveLength(3) // the tree and two bodies

    loads.length = 0
    const second = await run()
    expect(second).toEqual([
      {
        workspace: 'team',
        outcome: 'unchanged',
        snapshot: (first[0] as { snapshot: string }).snapshot,
        files: 3,
      },
    ])
    expect(loads).toHaveLength(0)
    expect(await listSnapshots({ provider })).toHaveLength(1)

    // same length, entry untouched: still seen, because the body's document changed
    loads.length = 0
    await edit('a.md', 0, 'ALPHA')
    const third = await run()
    expect(third).toMatchObject([{ workspace: 'team', outcome: 'snapshot', files: 3, hashed: 1 }])
    expect(loads.sort()).toEqual(['team', `team/${ws.findByPath('a.md')!}`])

    // a rename re-stages that note under its new path; the others are not read
    loads.length = 0
    ws.moveToPath(ws.findByPath('dir/b.md')!, 'b-moved.md')
    await storeTree()
    const fourth = await run()
    expect(fourth).toMatchObject([{ workspace: 'team', outcome: 'snapshot', files: 3 }])
    expect(loads.sort()).toEqual(['team', `team/${ws.findByPath('b-moved.md')!}`])

    const out = join(await temp(), 'restored')
    await restore({ provider, snapshot: (fourth[0] as { snapshot: string }).snapshot, target: out })
    expect(await readFile(join(out, 'a.md'), 'utf8')).toBe('ALPHA\n')
    expect(await readFile(join(out, 'b-moved.md'), 'utf8')).toBe('beta\n')
    expect([...(await readFile(join(out, 'pic.bin')))]).toEqual([1, 2, 3, 250])
    await expect(stat(join(out, 'dir', 'b.md'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await listSnapshots({ provider })).toHaveLength(3)
  })

  it('SB2 the state survives a restart but not a new location: another --backup-to starts with a full snapshot there', async () => {
    const { store, blobs } = await seed()
    const stageRoot = await temp()
    const a = await temp()
    const b = await temp()
    const opts = (target: string) => ({
      store,
      blobs,
      providerFor: (w: string) => new FolderProvider(join(target, w), { fsync: 'none' }),
      target,
      stageRoot,
      logger: noopLogger,
    })
    expect(await backupAllWorkspaces(opts(a))).toMatchObject([{ outcome: 'snapshot' }])
    // a new call is a restarted server: only the stage folder carries the state
    expect(await backupAllWorkspaces(opts(a))).toMatchObject([{ outcome: 'unchanged' }])
    const [there] = await backupAllWorkspaces(opts(b))
    expect(there).toMatchObject({ outcome: 'snapshot', files: 3 })
    const out = join(await temp(), 'restored')
    await restore({
      provider: new FolderProvider(join(b, 'team'), { fsync: 'none' }),
      snapshot: (there as { snapshot: string }).snapshot,
      target: out,
    })
    expect(await readFile(join(out, 'dir', 'b.md'), 'utf8')).toBe('beta\n')
  })

  it('SB3 a workspace that fails is reported and the others still get their snapshot', async () => {
    const { store, blobs } = await seed()
    await store.append('other', Y.encodeStateAsUpdate(new Y.Doc()))
    const root = await temp()
    const rs = await backupAllWorkspaces({
      store,
      blobs,
      providerFor: (w) => {
        if (w === 'other') throw new Error('the repository for other is unreachable')
        return new FolderProvider(join(root, w), { fsync: 'none' })
      },
      target: root,
      stageRoot: await temp(),
      logger: noopLogger,
    })
    expect(rs).toEqual([
      { workspace: 'other', outcome: 'failed', error: 'the repository for other is unreachable' },
      expect.objectContaining({ workspace: 'team', outcome: 'snapshot', files: 3 }),
    ])
  })
})
