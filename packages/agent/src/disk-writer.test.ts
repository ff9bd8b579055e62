import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  symlinkSync,
  appendFileSync,
  renameSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sha256HexSync } from '@skein/core/node'
import { DiskWriter } from './disk-writer.js'
import { StateStore } from './state-store.js'
import { tempName } from './names.js'
import { adoptRecoveredWrites } from './recovery.js'
import { asFileId } from '@skein/core'

describe('DiskWriter', () => {
  const dirs: string[] = []
  const stores: StateStore[] = []
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
  })
  const setup = async () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-write-'))
    dirs.push(root)
    const store = await StateStore.open(root)
    stores.push(store)
    return { root, store, writer: new DiskWriter(root, store) }
  }

  it('writes atomically, creating folders, and leaves no temp file', async () => {
    const { root, store, writer } = await setup()
    const res = await writer.write({ path: 'a/b/n.md', data: 'hi', expect: null })
    expect(res.ok).toBe(true)
    expect(readFileSync(join(root, 'a/b/n.md'), 'utf8')).toBe('hi')
    expect(readdirSync(join(root, 'a/b'))).toEqual(['n.md'])
    expect(await store.listIntents()).toEqual([])
    expect(writer.ownWrites.isOwn('a/b/n.md', sha256HexSync('hi'))).toBe(true)
  })

  it('never clobbers an edit it has not read', async () => {
    const { root, writer } = await setup()
    writeFileSync(join(root, 'n.md'), 'user edit')
    const res = await writer.write({ path: 'n.md', data: 'remote', expect: sha256HexSync('base') })
    expect(res).toMatchObject({ ok: false, reason: 'changed' })
    expect(readFileSync(join(root, 'n.md'), 'utf8')).toBe('user edit')
    const created = await writer.write({ path: 'n.md', data: 'remote', expect: null })
    expect(created.ok).toBe(false)
    const ok = await writer.write({
      path: 'n.md',
      data: 'remote',
      expect: sha256HexSync('user edit'),
    })
    expect(ok.ok).toBe(true)
    expect(readdirSync(root).sort()).toEqual(['.skein', 'n.md'])
  })

  it('refuses paths outside the root, into .skein, and over symlinks', async () => {
    const { root, writer } = await setup()
    await expect(writer.write({ path: '../x', data: 'x', expect: null })).rejects.toThrow(/escapes/)
    await expect(writer.write({ path: 'a\u0000b', data: 'x', expect: null })).rejects.toThrow(/NUL/)
    await expect(writer.write({ path: '.skein/x', data: 'x', expect: null })).rejects.toThrow(
      /agent state/,
    )
    symlinkSync('/etc/hostname', join(root, 'l.md'))
    mkdirSync(join(root, 'dir.md'))
    // Something in the way is never replaced; it blocks only its own write in a batch.
    const res = await writer.writeMany([
      { path: 'l.md', data: 'x', expect: null },
      { path: 'dir.md', data: 'x', expect: null },
      { path: 'fine.md', data: 'fine', expect: null },
    ])
    expect(res.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['blocked', 'blocked', 'ok'])
    expect(readdirSync(root).sort()).toEqual(['.skein', 'dir.md', 'fine.md', 'l.md'])
    expect(readFileSync(join(root, 'fine.md'), 'utf8')).toBe('fine')
  })

  it('recovery replays a complete interrupted write and rolls back a stale one', async () => {
    const { root, store, writer } = await setup()
    writeFileSync(join(root, 'a.md'), 'old')
    writeFileSync(join(root, 'b.md'), 'old')
    const ta = tempName()
    const tb = tempName()
    const tc = tempName()
    writeFileSync(join(root, ta), 'new a')
    writeFileSync(join(root, tb), 'new b')
    writeFileSync(join(root, tc), 'partial')
    const at = 1
    await store.putIntent({
      id: '1',
      op: 'write',
      path: 'a.md',
      temp: ta,
      hash: sha256HexSync('new a'),
      expect: sha256HexSync('old'),
      at,
    })
    // b.md was edited by the user after the intent: roll back.
    writeFileSync(join(root, 'b.md'), 'user')
    await store.putIntent({
      id: '2',
      op: 'write',
      path: 'b.md',
      temp: tb,
      hash: sha256HexSync('new b'),
      expect: sha256HexSync('old'),
      at,
    })
    // c.md: the temp is incomplete (hash differs): roll back.
    await store.putIntent({
      id: '3',
      op: 'write',
      path: 'c.md',
      temp: tc,
      hash: sha256HexSync('complete'),
      expect: null,
      at,
    })
    const rec = await writer.recover()
    expect(rec.map((r) => [r.intent.path, r.outcome])).toEqual([
      ['a.md', 'replayed'],
      ['b.md', 'rolled-back'],
      ['c.md', 'rolled-back'],
    ])
    expect(readFileSync(join(root, 'a.md'), 'utf8')).toBe('new a')
    expect(readFileSync(join(root, 'b.md'), 'utf8')).toBe('user')
    expect(readdirSync(root).sort()).toEqual(['.skein', 'a.md', 'b.md'])
    expect(await store.listIntents()).toEqual([])
  })

  it('keeps a content write in the intent log until its base is stored; a crash in between adopts it', async () => {
    const { root, store, writer } = await setup()
    const id = asFileId('f1')
    const res = await writer.write({ path: 'n.md', data: 'from crdt', expect: null, fileId: id })
    expect(res.ok).toBe(true)
    expect((await store.listIntents()).map((i) => i.path)).toEqual(['n.md'])
    // "Crash" here: the base was never stored. Recovery finds the write completed.
    const recovered = await new DiskWriter(root, store).recover()
    expect(recovered.map((r) => r.outcome)).toEqual(['completed'])
    await adoptRecoveredWrites(store, recovered, 1 << 20)
    expect(store.getBase(id)).toMatchObject({
      path: 'n.md',
      text: 'from crdt',
      hash: sha256HexSync('from crdt'),
    })
    expect(await store.listIntents()).toEqual([])
    // Without a crash, storing the base clears the intent.
    await writer.write({ path: 'm.md', data: 'x', expect: null, fileId: asFileId('f2') })
    await store.putBase({ ...store.getBase(id)!, fileId: asFileId('f2'), path: 'm.md' })
    expect(await store.listIntents()).toEqual([])
  })

  it('a write that lands in the file between the check and the replace is put back, not lost', async () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-write-'))
    dirs.push(root)
    const store = await StateStore.open(root)
    stores.push(store)
    const target = join(root, 'n.md')
    writeFileSync(target, 'base\n')
    let injected = false
    // The user's editor appends through its own open file, after the writer checked the target.
    const writer = new DiskWriter(root, store, {
      beforeReplace: (abs) => {
        if (abs !== target || injected) return
        injected = true
        appendFileSync(abs, 'user line\n')
      },
    })
    const res = await writer.write({
      path: 'n.md',
      data: 'base\nremote line\n',
      expect: sha256HexSync('base\n'),
    })
    expect(injected).toBe(true)
    expect(res).toMatchObject({ ok: false, reason: 'changed' })
    // The user's version is back on disk, and reported so the caller merges it on its next look.
    expect(readFileSync(target, 'utf8')).toBe('base\nuser line\n')
    expect(res.ok === false && res.current?.hash).toBe(sha256HexSync('base\nuser line\n'))
    expect(writer.ownWrites.isOwn('n.md', sha256HexSync('base\nuser line\n'))).toBe(false)
    expect(readdirSync(root).sort()).toEqual(['.skein', 'n.md'])
    expect(await store.listIntents()).toEqual([])
    // With no interference the same write goes through.
    const again = await writer.write({
      path: 'n.md',
      data: 'base\nuser line\nremote line\n',
      expect: sha256HexSync('base\nuser line\n'),
    })
    expect(again.ok).toBe(true)
    expect(readFileSync(target, 'utf8')).toBe('base\nuser line\nremote line\n')
  })
  it('a write whose folder is renamed mid-write reports its temp as lost (a scan sweeps it)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-write-'))
    dirs.push(root)
    const store = await StateStore.open(root)
    stores.push(store)
    mkdirSync(join(root, 'notes'))
    writeFileSync(join(root, 'notes/n.md'), 'base\n')
    const lost: string[] = []
    let seen = ''
    const writer: DiskWriter = new DiskWriter(root, store, {
      beforeReplace: () => {
        // The temp is written and in flight; the user renames its folder now.
        seen = readdirSync(join(root, 'notes')).find((f) => f.endsWith('.tmp')) ?? ''
        expect(writer.isInFlight(seen)).toBe(true)
        renameSync(join(root, 'notes'), join(root, 'notes-r'))
      },
      onLostTemp: (t) => lost.push(t),
    })
    await expect(
      writer.write({ path: 'notes/n.md', data: 'remote\n', expect: sha256HexSync('base\n') }),
    ).rejects.toThrow(/Cannot write notes\/n.md/)
    expect(lost).toEqual([seen])
    expect(readdirSync(join(root, 'notes-r')).sort()).toEqual([seen, 'n.md'].sort())
    expect(readFileSync(join(root, 'notes-r/n.md'), 'utf8')).toBe('base\n')
    expect(writer.isInFlight(seen)).toBe(false)
    expect(await store.listIntents()).toEqual([])
  })
})
