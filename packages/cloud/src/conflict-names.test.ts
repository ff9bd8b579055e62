import { describe, expect, it } from 'vitest'
import { conflictCopyPath, isConflictCopyOf, pickWinner } from './conflict-names.js'
import type { LocalFile } from './local-scan.js'

const T = Date.UTC(2026, 0, 2, 3, 4, 5)
describe('conflict copies', () => {
  it('CN1 names are <stem>.conflict-<side>-<YYYYMMDD-HHMMSS><ext> beside the file', () => {
    expect(conflictCopyPath('notes/todo.md', 'local', T)).toBe(
      'notes/todo.conflict-local-20260102-030405.md',
    )
    expect(conflictCopyPath('a.tar.gz', 'remote', T)).toBe(
      'a.tar.conflict-remote-20260102-030405.gz',
    )
    expect(conflictCopyPath('.env', 'local', T)).toBe('.env.conflict-local-20260102-030405')
    expect(
      isConflictCopyOf('notes/todo.conflict-local-20260102-030405.md', 'notes/todo.md', 'local'),
    ).toBe(true)
    expect(isConflictCopyOf('notes/todo.conflict-local-x.md', 'notes/todo.md', 'local')).toBe(false)
  })
  it('CN2 keep modes pick the winner; ties go to path1 (local)', () => {
    const l = { size: 10, mtimeMs: 2000 } as LocalFile
    const r = { path: 'a', size: 20, mtime: 1000 }
    expect(pickWinner('newer', l, r)).toBe('local')
    expect(pickWinner('older', l, r)).toBe('remote')
    expect(pickWinner('larger', l, r)).toBe('remote')
    expect(pickWinner('smaller', l, r)).toBe('local')
    expect(pickWinner('path1', l, r)).toBe('local')
    expect(pickWinner('path2', l, r)).toBe('remote')
    expect(pickWinner('newer', l, { ...r, mtime: 2000 })).toBe('local')
  })
})
