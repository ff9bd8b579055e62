import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { asContentHash, asFileId } from '@skein/core'
import { StateStore } from './state-store.js'
import type { BaseRecord } from './state-types.js'

const H = asContentHash('a'.repeat(64))

function base(id: string, path: string, extra: Partial<BaseRecord> = {}): BaseRecord {
  return {
    fileId: asFileId(id),
    path,
    kind: 'text',
    ino: 1,
    hash: H,
    size: 3,
    mtimeMs: 1,
    ctimeMs: 1,
    text: 'abc',
    ...extra,
  }
}

describe('StateStore', () => {
  const dirs: string[] = []
  const open: StateStore[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
  })
  const root = () => {
    const d = mkdtempSync(join(tmpdir(), 'skein-state-'))
    dirs.push(d)
    return d
  }
  const openStore = async (r: string) => {
    const s = await StateStore.open(r)
    open.push(s)
    return s
  }

  it('persists base records, pending edits and meta across reopen', async () => {
    const r = root()
    const s = await openStore(r)
    await s.putBases([base('f1', 'a.md'), base('f2', 'Dir/B.md', { text: 'x' })])
    await s.putPending({
      path: 'a.md',
      fileId: asFileId('f1'),
      change: 'modify',
      hash: H,
      since: 5,
    })
    await s.setMeta('workspace', { id: 'w' })
    await s.saveDoc('w', new Uint8Array([1, 2, 3]))
    await s.close()
    open.pop()
    const t = await openStore(r)
    expect(t.getBase(asFileId('f2'))?.text).toBe('x')
    expect(t.baseByPath('dir/b.md')?.fileId).toBe('f2')
    expect(await t.listPending()).toEqual([
      { path: 'a.md', fileId: 'f1', change: 'modify', hash: H, since: 5 },
    ])
    expect(await t.getMeta('workspace')).toEqual({ id: 'w' })
    expect(await t.getMeta('missing')).toBeUndefined()
    expect([...((await t.loadDoc('w')) ?? [])]).toEqual([1, 2, 3])
    await t.deletePending('a.md')
    expect(await t.listPending()).toEqual([])
  })

  it('pending edits move with a renamed file or folder, durably', async () => {
    const r = root()
    const s = await openStore(r)
    const edit = (path: string) => ({ path, change: 'modify' as const, hash: H, since: 1 })
    await s.putPendingMany([edit('P/n1.md'), edit('P/sub/x.md'), edit('Px.md'), edit('a.md')])
    await s.movePending('P', 'P-r1')
    await s.movePending('a.md', 'b.md')
    await s.movePending('none.md', 'other.md')
    expect(s.pendingPathsUnder(['']).sort()).toEqual([
      'P-r1/n1.md',
      'P-r1/sub/x.md',
      'Px.md',
      'b.md',
    ])
    await s.close()
    open.pop()
    const t = await openStore(r)
    expect((await t.listPending()).map((e) => e.path).sort()).toEqual([
      'P-r1/n1.md',
      'P-r1/sub/x.md',
      'Px.md',
      'b.md',
    ])
    expect(t.pendingCount).toBe(4)
  })

  it('re-indexes a base by its new path after a rename and forgets deleted ones', async () => {
    const s = await openStore(root())
    await s.putBase(base('f1', 'a.md'))
    await s.putBase(base('f1', 'b.md'))
    expect(s.baseByPath('a.md')).toBeUndefined()
    expect(s.baseByPath('b.md')?.fileId).toBe('f1')
    await s.deleteBase(asFileId('f1'))
    expect(s.allBases()).toEqual([])
  })

  it('moves files to the trash and restores them to their path', async () => {
    const r = root()
    const s = await openStore(r)
    writeFileSync(join(r, 'n.md'), 'note')
    const rec = await s.moveToTrash('n.md', { hash: H, size: 4, reason: 'remote delete', now: 1 })
    expect(rec).toBeDefined()
    expect(existsSync(join(r, 'n.md'))).toBe(false)
    expect((await s.listTrash()).map((t) => t.path)).toEqual(['n.md'])
    writeFileSync(join(r, 'n.md'), 'other')
    await expect(s.restoreFromTrash('n.md')).rejects.toThrow(/already exists/)
    rmSync(join(r, 'n.md'))
    await s.restoreFromTrash('n.md')
    expect(readFileSync(join(r, 'n.md'), 'utf8')).toBe('note')
    expect(await s.listTrash()).toEqual([])
    expect(
      await s.moveToTrash('gone.md', { hash: H, size: 0, reason: 'x', now: 2 }),
    ).toBeUndefined()
  })
})
