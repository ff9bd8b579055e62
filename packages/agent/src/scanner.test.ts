import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sha256HexSync } from '@skein/core/node'
import { createIgnoreMatcher } from './ignore-rules.js'
import { scanFolder } from './scanner.js'
import type { HashedStat } from './file-hash.js'

describe('scanFolder', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
  const root = () => {
    const d = mkdtempSync(join(tmpdir(), 'skein-scan-'))
    dirs.push(d)
    return d
  }
  const ignore = createIgnoreMatcher()

  it('indexes files and folders, applies ignore rules, reports and skips symlinks', async () => {
    const r = root()
    mkdirSync(join(r, 'a/b'), { recursive: true })
    mkdirSync(join(r, '.skein'))
    mkdirSync(join(r, 'node_modules'))
    writeFileSync(join(r, 'a/b/n.md'), 'hello')
    writeFileSync(join(r, 'top.md'), 'top')
    writeFileSync(join(r, 'a/x.swp'), 'swap')
    writeFileSync(join(r, '.skein/state'), 'x')
    writeFileSync(join(r, 'node_modules/m.js'), 'x')
    mkdirSync(join(r, 'outside'))
    symlinkSync(join(r, 'outside'), join(r, 'a/link'))
    symlinkSync(join(r, 'top.md'), join(r, 'a/filelink.md'))
    const res = await scanFolder(r, { ignore })
    expect([...res.files.keys()].sort()).toEqual(['a/b/n.md', 'top.md'])
    expect(res.folders).toEqual(['a', 'a/b', 'outside'])
    expect(res.files.get('a/b/n.md')?.hash).toBe(sha256HexSync('hello'))
    expect(
      res.issues
        .filter((i) => i.kind === 'symlink')
        .map((i) => i.path)
        .sort(),
    ).toEqual(['a/filelink.md', 'a/link'])
    expect(res.hashedCount).toBe(2)
  })

  it('hashes only when size, mtime, ctime or inode differ', async () => {
    const r = root()
    writeFileSync(join(r, 'a.md'), 'one')
    writeFileSync(join(r, 'b.md'), 'two')
    const first = await scanFolder(r, { ignore })
    const prev = (p: string): HashedStat | undefined => first.files.get(p)
    const again = await scanFolder(r, { ignore, previous: prev })
    expect(again.hashedCount).toBe(0)
    // Same size, same mtime after the edit: only ctime (and content) tell.
    const st = first.files.get('a.md')
    writeFileSync(join(r, 'a.md'), 'ONE')
    if (st) utimesSync(join(r, 'a.md'), st.mtimeMs / 1000, st.mtimeMs / 1000)
    const third = await scanFolder(r, { ignore, previous: prev })
    expect(third.hashedCount).toBe(1)
    expect(third.files.get('a.md')?.hash).toBe(sha256HexSync('ONE'))
    expect(third.files.get('b.md')?.hashed).toBe(false)
  })

  it('hashes big files by streaming and reports names it cannot sync', async () => {
    const r = root()
    const big = Buffer.alloc(3 << 20, 7)
    writeFileSync(join(r, 'big.bin'), big)
    writeFileSync(join(r, 'bad\nname.md'), 'x')
    const res = await scanFolder(r, { ignore })
    expect(res.files.get('big.bin')?.hash).toBe(sha256HexSync(big))
    expect(res.files.has('bad\nname.md')).toBe(false)
    expect(res.issues.map((i) => i.kind)).toEqual(['unsyncable-name'])
  })
})
