import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_IGNORE_PATTERNS, createIgnoreMatcher, loadIgnoreMatcher } from './ignore-rules.js'
import { tempName } from './names.js'

describe('ignore rules', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('has exactly the issue-5 default list', () => {
    expect([...DEFAULT_IGNORE_PATTERNS]).toEqual([
      '.skein/',
      '.git/',
      'node_modules/',
      '.DS_Store',
      '*.swp',
      '.*.swp',
      '*~',
      '.#*',
      '4913',
      '*.tmp',
    ])
  })

  it('ignores the defaults at any depth, and files inside ignored folders', () => {
    const m = createIgnoreMatcher()
    for (const [p, dir] of [
      ['.skein', true],
      ['.skein/state/LOG', false],
      ['a/.git', true],
      ['a/.git/HEAD', false],
      ['x/node_modules/y/z.js', false],
      ['notes/.DS_Store', false],
      ['notes/a.md.swp', false],
      ['notes/.a.md.swp', false],
      ['notes/a.md~', false],
      ['notes/.#a.md', false],
      ['notes/4913', false],
      ['notes/x.tmp', false],
      [`notes/${tempName()}`, false],
    ] as const)
      expect(m.ignores(p, dir), p).toBe(true)
    for (const p of ['notes/a.md', 'skein/x.md', 'a.tmp.md', 'node_modules.md', '49130'])
      expect(m.ignores(p, false), p).toBe(false)
    // `.skein/` names a folder: a file called `.skein` is a user file.
    expect(m.ignores('.skein', false)).toBe(false)
  })

  it('adds .skeinignore lines in gitignore syntax, including negation', () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-ign-'))
    dirs.push(root)
    writeFileSync(join(root, '.skeinignore'), '# build output\nbuild/\n*.log\n!keep.log\n\n')
    const m = loadIgnoreMatcher(root)
    expect(m.ignores('build', true)).toBe(true)
    expect(m.ignores('build/a.md', false)).toBe(true)
    expect(m.ignores('a/b.log', false)).toBe(true)
    expect(m.ignores('keep.log', false)).toBe(false)
    expect(m.ignores('.skeinignore', false)).toBe(false)
    expect(m.patterns).toContain('build/')
  })

  it('works without a .skeinignore', () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-ign-'))
    dirs.push(root)
    expect(loadIgnoreMatcher(root).patterns).toEqual(DEFAULT_IGNORE_PATTERNS)
  })
  it("keeps the agent's temp files ignored when a user un-ignores *.tmp", () => {
    const m = createIgnoreMatcher(['!*.tmp'])
    expect(m.ignores('draft.tmp', false)).toBe(false)
    expect(m.ignores(`notes/${tempName()}`, false)).toBe(true)
    expect(m.ignores('.skein-notes.tmp', false)).toBe(false)
  })
})
