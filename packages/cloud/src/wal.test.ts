import { appendFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SyncManifest } from './manifest.js'
import { WriteAheadLog, recoverWal } from './wal.js'

const entry = (h: string) => ({
  localHash: h,
  remoteHash: h,
  localModified: 1,
  remoteModified: 1,
  size: 1,
})
describe('write-ahead log', () => {
  it('WAL1 recovery replays completed operations only, ignoring a torn last line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-wal-'))
    const file = join(dir, 'm.json.wal')
    const wal = await WriteAheadLog.begin(file, 'run', ['upload a', 'upload b', 'delete-remote c'])
    await wal.commit(0, [['a', entry('ha')]])
    await wal.commit(2, [['c', null]])
    await wal.close() // the process "dies" here
    await appendFile(file, '{"op":1,"effects":[["b",')
    const m = await SyncManifest.load(join(dir, 'm.json'))
    m.set('c', entry('hc'))
    expect(await recoverWal(file, m)).toEqual({ planned: 3, completed: 2 })
    expect(m.get('a')?.localHash).toBe('ha')
    expect(m.get('b')).toBeUndefined()
    expect(m.get('c')).toBeUndefined()
  })
  it('WAL2 no log, nothing to recover; end() removes the log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-wal-'))
    const m = SyncManifest.empty(join(dir, 'm.json'))
    expect(await recoverWal(join(dir, 'none.wal'), m)).toBeUndefined()
    const wal = await WriteAheadLog.begin(join(dir, 'x.wal'), 'r', [])
    await wal.end()
    expect(await recoverWal(join(dir, 'x.wal'), m)).toBeUndefined()
  })
  it('WAL3 the manifest is persisted atomically and reloads identically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-wal-'))
    const m = SyncManifest.empty(join(dir, 'sub', 'manifest.json'))
    m.set('ü/a.md', entry('h1'))
    m.remoteGeneration = 'g1'
    await m.save()
    const again = await SyncManifest.load(join(dir, 'sub', 'manifest.json'))
    expect(again.get('ü/a.md')).toEqual(entry('h1'))
    expect(again.remoteGeneration).toBe('g1')
  })
})
