import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FolderProvider } from '../folder-provider.js'
import { FaultyProvider } from '../testing/faulty-provider.js'
import { backup } from './backup.js'
import { listSnapshots } from './list.js'
import { prune, selectKept } from './prune.js'
import { restore } from './restore.js'

const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-snap-'))
  temps.push(d)
  return d
}
afterAll(
  async () => void (await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))),
)

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(p)
      else out[p] = await readFile(join(dir, p), 'utf8')
    }
  }
  await walk('')
  return out
}
async function write(dir: string, files: Record<string, string>) {
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true })
    await writeFile(join(dir, p), c)
  }
}

describe('snapshots', () => {
  it('SN1 round trip: back up, change, back up, restore the first snapshot byte-identical', async () => {
    const src = await temp()
    const provider = new FolderProvider(await temp(), { fsync: 'none' })
    await write(src, {
      'a.md': 'alpha',
      'dir/b.md': 'beta',
      'dup.md': 'alpha',
      'ünï.md': 'u',
      '.skein/state': 'not backed up',
    })
    const first = await backup({ source: src, provider })
    expect(first.snapshot.fileCount).toBe(4)
    expect(first.blobsUploaded).toBe(3) // a.md and dup.md share a blob
    const original = await tree(src)
    await write(src, { 'a.md': 'alpha v2', 'new.md': 'new' })
    await rm(join(src, 'dir/b.md'))
    const second = await backup({ source: src, provider })
    expect(second.blobsUploaded).toBe(2)
    expect(second.filesHashed).toBe(2) // unchanged files came from the size+mtime cache
    const snaps = await listSnapshots({ provider })
    expect(snaps.map((s) => s.id)).toEqual([first.snapshot.id, second.snapshot.id])
    const target = join(await temp(), 'restored')
    const r = await restore({ provider, snapshot: first.snapshot.id, target })
    expect(r.files).toBe(4)
    delete original['.skein/state']
    expect(await tree(target)).toEqual(original)
    const st = await stat(join(target, 'a.md'))
    expect(
      Math.abs(st.mtimeMs - (await listSnapshots({ provider }))[0]!.time),
    ).toBeGreaterThanOrEqual(0)
  })

  it('SN2 restore refuses a non-empty target and restores a subset of paths', async () => {
    const src = await temp()
    const provider = new FolderProvider(await temp(), { fsync: 'none' })
    await write(src, { 'a.md': 'a', 'dir/b.md': 'b', 'dir/c.md': 'c' })
    const { snapshot } = await backup({ source: src, provider })
    await expect(restore({ provider, snapshot: snapshot.id, target: src })).rejects.toMatchObject({
      code: 'SAFETY_GUARD',
    })
    const target = await temp()
    await restore({ provider, snapshot: snapshot.id, target, paths: ['dir'] })
    expect(await tree(target)).toEqual({ 'dir/b.md': 'b', 'dir/c.md': 'c' })
  })

  it('SN3 a damaged or missing blob: every other file is restored, the damaged ones are not written, and the restore fails naming each', async () => {
    const src = await temp()
    const store = await temp()
    const provider = new FolderProvider(store, { fsync: 'none' })
    await write(src, { 'a.md': 'precious', 'dir/b.md': 'also precious', 'c.md': 'fine' })
    const { snapshot } = await backup({ source: src, provider })
    const blobs = (
      await readdir(join(store, 'blobs'), { recursive: true, withFileTypes: true })
    ).filter((d) => d.isFile())
    const blobOf = async (text: string) => {
      for (const b of blobs)
        if ((await readFile(join(b.parentPath, b.name), 'utf8')) === text)
          return join(b.parentPath, b.name)
      throw new Error(`no blob holds ${text}`)
    }
    await writeFile(await blobOf('precious'), 'tampered')
    const target = join(await temp(), 't')
    const err = await restore({ provider, snapshot: snapshot.id, target }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'HASH_MISMATCH', details: { paths: ['a.md'] } })
    expect(String((err as Error).message)).toMatch(
      /Restored 2 of 3 files.*"a\.md".*another snapshot/,
    )
    expect(await tree(target)).toEqual({ 'dir/b.md': 'also precious', 'c.md': 'fine' })
    // a missing blob as well: both named, the code of the worst (a damaged one)
    await rm(await blobOf('also precious'))
    const again = join(await temp(), 't')
    const err2 = await restore({ provider, snapshot: snapshot.id, target: again }).catch(
      (e: unknown) => e,
    )
    expect(err2).toMatchObject({ code: 'HASH_MISMATCH', details: { paths: ['a.md', 'dir/b.md'] } })
    expect(String((err2 as Error).message)).toMatch(
      /"dir\/b\.md" \(blob [0-9a-f]{12}… is missing\)/,
    )
    expect(await tree(again)).toEqual({ 'c.md': 'fine' })
  })

  it('SN4 encryption: blobs and manifests are unreadable, the right passphrase restores, a wrong one is a clear error', async () => {
    const src = await temp()
    const store = await temp()
    const provider = new FolderProvider(store, { fsync: 'none' })
    await write(src, { 'secret.md': 'the plaintext secret' })
    const { snapshot } = await backup({ source: src, provider, passphrase: 'correct horse' })
    const all = await readdir(store, { recursive: true, withFileTypes: true })
    for (const f of all.filter((d) => d.isFile() && !d.parentPath.includes('.skein-provider')))
      expect(await readFile(join(f.parentPath, f.name), 'utf8')).not.toContain('plaintext secret')
    await expect(listSnapshots({ provider, passphrase: 'wrong' })).rejects.toMatchObject({
      code: 'NOT_AUTHORIZED',
      message: expect.stringMatching(/Wrong passphrase/),
    })
    await expect(listSnapshots({ provider })).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' })
    const target = await temp()
    await restore({ provider, snapshot: snapshot.id, target, passphrase: 'correct horse' })
    expect(await tree(target)).toEqual({ 'secret.md': 'the plaintext secret' })
  })

  it('SN5 prune keeps what the policy says and every blob a kept snapshot needs', async () => {
    const src = await temp()
    const store = await temp()
    const provider = new FolderProvider(store, { fsync: 'none' })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      await write(src, { 'same.md': 'constant', [`v${i}.md`]: `version ${i}` })
      ids.push((await backup({ source: src, provider })).snapshot.id)
    }
    const res = await prune({ provider, keepLast: 2 })
    expect(res.removed).toEqual(ids.slice(0, 2))
    expect(res.blobsDeleted).toBe(0) // v0..v3 files all still exist in the source, so kept snapshots reference them
    await rm(join(src, 'v0.md'))
    await rm(join(src, 'v1.md'))
    ids.push((await backup({ source: src, provider })).snapshot.id)
    const res2 = await prune({ provider, keepLast: 1 })
    expect(res2.blobsDeleted).toBe(2)
    for (const id of [ids[4]!]) {
      const target = await temp()
      await restore({ provider, snapshot: id, target })
      expect(Object.keys(await tree(target)).sort()).toEqual(['same.md', 'v2.md', 'v3.md'])
    }
  })

  it('SN6 prune refuses while a backup holds its lock (a backup may rely on unreferenced blobs)', async () => {
    const src = await temp()
    const store = await temp()
    const provider = new FolderProvider(store, { fsync: 'none' })
    await write(src, { 'a.md': 'a' })
    await backup({ source: src, provider })
    await write(join(store, 'locks'), {
      'backup-x.json': JSON.stringify({ kind: 'backup', time: Date.now() }),
    })
    await expect(prune({ provider, keepLast: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
      retryable: true,
    })
    await write(join(store, 'locks'), {
      'backup-x.json': JSON.stringify({ kind: 'backup', time: Date.now() - 48 * 3600_000 }),
    })
    await expect(prune({ provider, keepLast: 1 })).resolves.toBeDefined()
    await expect(prune({ provider })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('SN8 prune refuses, deleting nothing, when the listing leaves out a snapshot that exists (the newest, or one a listed snapshot names)', async () => {
    const src = await temp()
    const store = await temp()
    const provider = new FolderProvider(store, { fsync: 'none' })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      // Each snapshot has content no other snapshot has: pruning by a short listing would delete it.
      await write(src, { 'same.md': 'constant', 'only.md': `only in snapshot ${i}` })
      ids.push((await backup({ source: src, provider })).snapshot.id)
    }
    const blobs = async () =>
      (await readdir(join(store, 'blobs'), { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => d.name)
        .sort()
    const before = await blobs()
    expect(before).toHaveLength(5)
    const hiding = (id: string) =>
      new FaultyProvider(provider).hideFromListing([`snapshots/${id}.json`])
    // The newest (named by snapshots/LATEST), then an older one (named by its successor).
    for (const hidden of [ids[3]!, ids[1]!]) {
      const omitting = hiding(hidden)
      expect((await listSnapshots({ provider: omitting })).map((s) => s.id)).not.toContain(hidden)
      for (const dryRun of [true, false])
        await expect(prune({ provider: omitting, keepLast: 2, dryRun })).rejects.toMatchObject({
          code: 'SAFETY_GUARD',
          retryable: true,
          message: expect.stringContaining(`leaves out snapshot ${hidden}`),
        })
      expect(await blobs()).toEqual(before)
      expect((await listSnapshots({ provider })).map((s) => s.id)).toEqual(ids)
      const target = await temp()
      await restore({ provider, snapshot: hidden, target })
      expect(await tree(target)).toEqual({
        'same.md': 'constant',
        'only.md': `only in snapshot ${ids.indexOf(hidden)}`,
      })
    }
    // A backup whose listing misses the newest still chains to it (found through LATEST), so
    // the snapshot it missed stays protected once it is no longer the newest.
    await write(src, { 'only.md': 'only in snapshot 4' })
    ids.push((await backup({ source: src, provider: hiding(ids[3]!) })).snapshot.id)
    await expect(prune({ provider: hiding(ids[3]!), keepLast: 2 })).rejects.toMatchObject({
      code: 'SAFETY_GUARD',
    })
    // With a complete listing the prune goes ahead, and what it keeps restores.
    const res = await prune({ provider, keepLast: 2 })
    expect(res.removed).toEqual(ids.slice(0, 3))
    expect(res.blobsDeleted).toBe(3)
    for (const id of ids.slice(3)) {
      const target = await temp()
      await restore({ provider, snapshot: id, target })
      expect(Object.keys(await tree(target)).sort()).toEqual(['only.md', 'same.md'])
    }
    // Predecessors that were pruned are gone, not hidden: the next prune is not refused.
    await expect(prune({ provider, keepLast: 1 })).resolves.toMatchObject({ removed: [ids[3]] })
  })

  it('SN9 a missing source, or a file, is refused before anything is written: no empty "latest" snapshot', async () => {
    const dir = await temp()
    const store = join(dir, 'repo')
    const provider = new FolderProvider(store, { fsync: 'none' })
    await expect(backup({ source: join(dir, 'typo'), provider })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/typo does not exist; give the folder to back up/),
    })
    await writeFile(join(dir, 'file.md'), 'x')
    await expect(backup({ source: join(dir, 'file.md'), provider })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/file\.md is not a folder/),
    })
    await expect(stat(store)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('SN7 keepDaily / keepWeekly pick the newest snapshot per day / ISO week', () => {
    const h = 3600_000
    const t0 = Date.UTC(2026, 0, 5, 12) // a Monday
    const snaps = [0, 1, 24, 25, 48, 24 * 7, 24 * 7 + 1].map((o, i) => ({
      id: `s${i}`,
      time: t0 + o * h,
    }))
    expect([...selectKept(snaps, { keepDaily: 2 })].sort()).toEqual(['s4', 's6'])
    expect([...selectKept(snaps, { keepDaily: 3 })].sort()).toEqual(['s3', 's4', 's6'])
    expect([...selectKept(snaps, { keepWeekly: 2 })].sort()).toEqual(['s4', 's6'])
    expect([...selectKept(snaps, { keepLast: 3 })].sort()).toEqual(['s4', 's5', 's6'])
  })
})
