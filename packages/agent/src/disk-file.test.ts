import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sha256HexSync } from '@skein/core/node'
import { readDiskFile } from './disk-file.js'

describe('readDiskFile', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
  const root = () => {
    const d = mkdtempSync(join(tmpdir(), 'skein-disk-'))
    dirs.push(d)
    return d
  }

  it('reads text, treats NUL bytes and over-limit text as binary, never follows symlinks', () => {
    const r = root()
    writeFileSync(join(r, 'a.md'), 'héllo')
    writeFileSync(join(r, 'b.bin'), Buffer.from([104, 0, 105]))
    writeFileSync(join(r, 'big.md'), 'x'.repeat(100))
    symlinkSync(join(r, 'a.md'), join(r, 'link.md'))
    expect(readDiskFile(r, 'a.md', 1000)).toMatchObject({
      text: 'héllo',
      hash: sha256HexSync('héllo'),
      size: 6,
    })
    expect(readDiskFile(r, 'b.bin', 1000)?.text).toBeUndefined()
    expect(readDiskFile(r, 'big.md', 99)?.text).toBeUndefined()
    expect(readDiskFile(r, 'big.md', 100)?.text).toBe('x'.repeat(100))
    expect(readDiskFile(r, 'link.md', 1000)).toBeUndefined()
    expect(readDiskFile(r, 'missing.md', 1000)).toBeUndefined()
  })
})
