import { describe, expect, it } from 'vitest'
import { normalizePath } from '@skein/core'
import {
  conflictCopyPath,
  isConflictCopyName,
  isConflictCopyOf,
  isTempName,
  tempName,
} from './names.js'

const T = Date.UTC(2026, 0, 2, 3, 4, 5)

describe('names', () => {
  it('temp names are unique and recognised, user look-alikes are not', () => {
    const a = tempName()
    expect(isTempName(a)).toBe(true)
    expect(tempName()).not.toBe(a)
    expect(isTempName('.skein-notes.tmp')).toBe(false)
    expect(isTempName('a.tmp')).toBe(false)
  })

  it('makes <stem>.conflict-<device>-<YYYYMMDD-HHMMSS><ext> in the same folder', () => {
    expect(conflictCopyPath('n/a.md', 'laptop', T, () => false)).toBe(
      'n/a.conflict-laptop-20260102-030405.md',
    )
    expect(conflictCopyPath('README', 'pc', T, () => false)).toBe(
      'README.conflict-pc-20260102-030405',
    )
    expect(conflictCopyPath('.env', 'pc', T, () => false)).toBe('.env.conflict-pc-20260102-030405')
  })

  it('is unique when the name is taken', () => {
    const taken = new Set([
      'a.conflict-pc-20260102-030405.md',
      'a.conflict-pc-20260102-030405-2.md',
    ])
    expect(conflictCopyPath('a.md', 'pc', T, (p) => taken.has(p))).toBe(
      'a.conflict-pc-20260102-030405-3.md',
    )
  })

  it('never makes a conflict of a conflict', () => {
    const first = conflictCopyPath('a.md', 'my-pc.1', T, () => false)
    expect(isConflictCopyName(first)).toBe(true)
    const second = conflictCopyPath(first, 'other', T + 1000, () => false)
    expect(second).toBe('a.conflict-other-20260102-030406.md')
    expect(isConflictCopyName('a.md')).toBe(false)
    // Without an extension the `.conflict-…` tail is not mistaken for one.
    const bare = conflictCopyPath('n/README', 'pc', T, () => false)
    expect(isConflictCopyName(bare)).toBe(true)
    expect(conflictCopyPath(bare, 'other', T, () => false)).toBe(
      'n/README.conflict-other-20260102-030405',
    )
    expect(isConflictCopyName('my.conflict-notes.md')).toBe(false)
  })

  it('tells which file a conflict copy belongs to', () => {
    expect(isConflictCopyOf('n/a.conflict-pc-20260102-030405.md', 'n/a.md')).toBe(true)
    expect(isConflictCopyOf('a.conflict-pc-20260102-030405-2.md', 'a.md')).toBe(true)
    expect(isConflictCopyOf('ab.conflict-pc-20260102-030405.md', 'a.md')).toBe(false)
    expect(isConflictCopyOf('a.conflict-pc-20260102-030405.txt', 'a.md')).toBe(false)
    expect(isConflictCopyOf('README.conflict-pc-20260102-030405', 'README')).toBe(true)
    expect(isConflictCopyOf('a.md', 'a.md')).toBe(false)
  })

  it('a conflict copy of a long name is still a valid name (≤ 255 UTF-8 bytes)', () => {
    const bytes = (p: string) => Buffer.byteLength(p.split('/').pop() ?? p)
    for (const name of [
      `${'L'.repeat(252)}.md`,
      `${'é'.repeat(126)}.md`,
      `${'😀'.repeat(63)}.md`,
      `x.${'e'.repeat(250)}`,
    ]) {
      let n = 1
      const copy = conflictCopyPath(`n/${name}`, 'a-long-device-name', T, () => n++ < 12)
      expect(bytes(copy), copy).toBeLessThanOrEqual(255)
      expect(() => normalizePath(copy)).not.toThrow()
      expect(isConflictCopyName(copy)).toBe(true)
      expect(copy.startsWith('n/')).toBe(true)
    }
  })
})
