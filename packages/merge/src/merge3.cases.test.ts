/**
 * Named edge cases (SPEC.md MG2–MG8). Each expected text is written out, and
 * when git is installed the same case is also checked against `git merge-file`.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { gitAvailable, gitWorkdir } from './git.test.helper.js'
import { merge3 } from './merge3.js'
import type { MergeOptions } from './options.js'

const git = gitAvailable() ? gitWorkdir() : undefined
afterAll(() => git?.dispose())

const FLAGS = { merge: [], diff3: ['--diff3'], zdiff3: ['--zdiff3'] }

/** Merges, checks the expected text and conflict count, and that git agrees. */
function check(
  base: string,
  ours: string,
  theirs: string,
  expected: { text: string; conflicts: number },
  options?: Partial<MergeOptions>,
) {
  const r = merge3(base, ours, theirs, options)
  expect(r.text).toBe(expected.text)
  expect(r.conflicts).toHaveLength(expected.conflicts)
  expect(r.clean).toBe(expected.conflicts === 0)
  expect(r.degraded).toBe(false)
  if (git && !options?.labels && !options?.markerSize) {
    const g = git.merge({ base, ours, theirs }, FLAGS[options?.style ?? 'merge'])
    expect({ text: g.text, conflicts: g.conflicts }).toEqual(expected)
  }
  return r
}

const conflict = (ours: string, theirs: string, eol = '\n') =>
  `<<<<<<< ours${eol}${ours}=======${eol}${theirs}>>>>>>> theirs${eol}`

describe('merge3 basics (MG2, MG3)', () => {
  it('MG2 takes a change made on one side only', () => {
    check('a\nb\nc\n', 'a\nB\nc\n', 'a\nb\nc\n', { text: 'a\nB\nc\n', conflicts: 0 })
    check('a\nb\nc\n', 'a\nb\nc\n', 'a\nb\nC\n', { text: 'a\nb\nC\n', conflicts: 0 })
  })
  it('MG2 merges changes separated by an unchanged line', () => {
    check('a\nb\nc\n', 'A\nb\nc\n', 'a\nb\nC\n', { text: 'A\nb\nC\n', conflicts: 0 })
  })
  it('MG2 identical changes on both sides are clean', () => {
    check('a\nb\nc\n', 'a\nX\nc\nd\n', 'a\nX\nc\nd\n', { text: 'a\nX\nc\nd\n', conflicts: 0 })
    check('a\nb\nc\nd\ne\n', 'a\nX\nc\nd\nE\n', 'a\nX\nc\nd\ne\n', {
      text: 'a\nX\nc\nd\nE\n',
      conflicts: 0,
    })
  })
  it('MG3 changes to adjacent lines conflict, as in git', () => {
    check('a\nb\nc\nd\n', 'a\nB\nc\nd\n', 'a\nb\nC\nd\n', {
      text: 'a\n' + conflict('B\nc\n', 'b\nC\n') + 'd\n',
      conflicts: 1,
    })
  })
  it('MG3 an insertion touching the other side’s change conflicts', () => {
    check('a\nb\n', 'a\nb\nnew\n', 'a\nB\n', {
      text: 'a\n' + conflict('b\nnew\n', 'B\n'),
      conflicts: 1,
    })
  })
  it('MG3 both sides deleting and editing the same line conflict', () => {
    check('a\nb\nc\n', 'a\nc\n', 'a\nB\nc\n', {
      text: 'a\n' + conflict('', 'B\n') + 'c\n',
      conflicts: 1,
    })
  })
})

describe('merge3 prototype keys (MG6)', () => {
  it('MG6 merges lines named like Object.prototype members', () => {
    const base = 'constructor\n__proto__\ntoString\nhasOwnProperty\nvalueOf\n'
    const ours = 'constructor\n__proto__\n__proto__\ntoString\nhasOwnProperty\nvalueOf\n'
    const theirs = 'constructor\n__proto__\ntoString\nhasOwnProperty\n__defineGetter__\n'
    check(base, ours, theirs, {
      text: 'constructor\n__proto__\n__proto__\ntoString\nhasOwnProperty\n__defineGetter__\n',
      conflicts: 0,
    })
  })
  it('MG6 conflicts on prototype-named lines are reported, not swallowed', () => {
    check('x\n', 'constructor\n', '__proto__\n', {
      text: conflict('constructor\n', '__proto__\n'),
      conflicts: 1,
    })
  })
})

describe('merge3 line endings and final newline (MG4, MG5)', () => {
  it('MG4 keeps CRLF line endings on a clean merge', () => {
    check('a\r\nb\r\nc\r\n', 'A\r\nb\r\nc\r\n', 'a\r\nb\r\nC\r\n', {
      text: 'A\r\nb\r\nC\r\n',
      conflicts: 0,
    })
  })
  it('MG4 writes CRLF markers in a CRLF file', () => {
    check('a\r\nb\r\nc\r\n', 'a\r\nB\r\nc\r\n', 'a\r\nX\r\nc\r\n', {
      text: 'a\r\n' + conflict('B\r\n', 'X\r\n', '\r\n') + 'c\r\n',
      conflicts: 1,
    })
  })
  it('MG4 a line whose ending changed from LF to CRLF is a change', () => {
    check('a\nb\nc\n', 'a\nb\r\nc\n', 'a\nb\nc\nd\n', { text: 'a\nb\r\nc\nd\n', conflicts: 0 })
  })
  it('MG5 keeps a missing final newline on a clean merge', () => {
    check('a\nb\nc', 'A\nb\nc', 'a\nb\nC', { text: 'A\nb\nC', conflicts: 0 })
    check('a\nb\nc\n', 'A\nb\nc\n', 'a\nb\nc', { text: 'A\nb\nc', conflicts: 0 })
  })
  it('MG5 adding the final newline on one side is a change to the last line', () => {
    check('a\nb', 'a\nb\n', 'a\nb', { text: 'a\nb\n', conflicts: 0 })
    check('a\nb', 'a\nb\n', 'a\nc', { text: 'a\n' + conflict('b\n', 'c\n'), conflicts: 1 })
  })
  it('MG5 ends an unterminated side with a newline before the next marker', () => {
    check('a\nb', 'a\nB', 'a\nX', { text: 'a\n' + conflict('B\n', 'X\n'), conflicts: 1 })
  })
})

describe('merge3 empty inputs (MG2, MG3)', () => {
  it('MG2 all empty, or one side emptied while the other is unchanged', () => {
    check('', '', '', { text: '', conflicts: 0 })
    check('a\nb\n', '', 'a\nb\n', { text: '', conflicts: 0 })
    check('', 'new\n', '', { text: 'new\n', conflicts: 0 })
  })
  it('MG3 two different files created from an empty base conflict', () => {
    check('', 'one\n', 'two\n', { text: conflict('one\n', 'two\n'), conflicts: 1 })
  })
  it('MG3 deleting everything against an edit conflicts', () => {
    check('a\nb\n', '', 'a\nB\n', { text: conflict('', 'a\nB\n'), conflicts: 1 })
  })
})

describe('merge3 unicode (MG1)', () => {
  it('MG1 treats emoji, CJK and combining characters as ordinary line content', () => {
    const base = '日本語\n😀\n--\ncafé\n'
    check(base, '日本語\n😀👍\n--\ncafé\n', '日本語\n😀\n--\ncafe\u0301\n', {
      text: '日本語\n😀👍\n--\ncafe\u0301\n',
      conflicts: 0,
    })
    check(base, '中文\n😀\n--\ncafé\n', '한국어\n😀\n--\ncafé\n', {
      text: conflict('中文\n', '한국어\n') + '😀\n--\ncafé\n',
      conflicts: 1,
    })
  })
})

describe('merge3 conflict refinement and styles (MG7, MG8)', () => {
  it('MG7 narrows a conflict to the lines where the sides differ', () => {
    check('a\nb\nc\n', 'a\nX\nsame\nY\nc\n', 'a\nZ\nsame\nW\nc\n', {
      text: 'a\n' + conflict('X\nsame\nY\n', 'Z\nsame\nW\n') + 'c\n',
      conflicts: 1,
    })
    const shared = '1\n2\n3\n4\n'
    check('a\nb\nc\n', `a\nX\n${shared}Y\nc\n`, `a\nZ\n${shared}W\nc\n`, {
      text: 'a\n' + conflict('X\n', 'Z\n') + shared + conflict('Y\n', 'W\n') + 'c\n',
      conflicts: 2,
    })
  })
  it('MG7 joins conflicts separated only by lines without letters or digits', () => {
    const sep = '}\n}\n\n}\n'
    check('a\nb\nc\n', `a\nX\n${sep}Y\nc\n`, `a\nZ\n${sep}W\nc\n`, {
      text: 'a\n' + conflict(`X\n${sep}Y\n`, `Z\n${sep}W\n`) + 'c\n',
      conflicts: 1,
    })
  })
  it('MG8 diff3 style shows the base and does not refine', () => {
    check(
      'a\nb\nc\n',
      'a\nX\nsame\nc\n',
      'a\nZ\nsame\nc\n',
      {
        text: 'a\n<<<<<<< ours\nX\nsame\n||||||| base\nb\n=======\nZ\nsame\n>>>>>>> theirs\nc\n',
        conflicts: 1,
      },
      { style: 'diff3' },
    )
  })
  it('MG8 zdiff3 style moves common leading and trailing lines out of the conflict', () => {
    check(
      'a\nb\nc\n',
      'a\nsame\nX\nc\n',
      'a\nsame\nZ\nc\n',
      {
        text: 'a\nsame\n<<<<<<< ours\nX\n||||||| base\nb\n=======\nZ\n>>>>>>> theirs\nc\n',
        conflicts: 1,
      },
      { style: 'zdiff3' },
    )
  })
  it('MG8 uses the configured labels and marker size', () => {
    const r = check(
      'a\n',
      'b\n',
      'c\n',
      { text: '<<<< mine\nb\n|||| original\na\n====\nc\n>>>> remote\n', conflicts: 1 },
      {
        style: 'diff3',
        markerSize: 4,
        labels: { ours: 'mine', base: 'original', theirs: 'remote' },
      },
    )
    expect(r.conflicts[0]).toEqual({
      ours: { start: 0, end: 1 },
      theirs: { start: 0, end: 1 },
      base: { start: 0, end: 1 },
      markerLine: 0,
    })
  })
  it('MG8 rejects invalid options with INVALID_INPUT', () => {
    expect(() => merge3('a', 'b', 'c', { style: 'fancy' as never })).toThrow(/unknown style/)
    expect(() => merge3('a', 'b', 'c', { markerSize: 0 })).toThrow(/markerSize/)
    expect(() => merge3('a', 'b', 'c', { labels: { ours: 'x\ny', base: '', theirs: '' } })).toThrow(
      /label/,
    )
    expect(() => merge3(null as never, 'b', 'c')).toThrow(/base must be a string/)
  })
})
