import { describe, expect, it } from 'vitest'
import { SkeinError } from './errors.js'
import { normalizeName, normalizePath, pathKey, splitExt, parentPath, baseName } from './paths.js'

const long = (n: number) => 'a'.repeat(n)

describe('normalizePath — accepted inputs (PR1, PR2, PR4)', () => {
  const ok: [string, string][] = [
    ['notes/todo.md', 'notes/todo.md'],
    ['./notes/todo.md', 'notes/todo.md'],
    ['a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/b/../../c', 'c'],
    ['Cafe\u0301.md', 'Café.md'],
    ['日本語/メモ.md', '日本語/メモ.md'],
    ['emoji 🎉.md', 'emoji 🎉.md'],
    ['__proto__', '__proto__'],
    ['constructor/toString', 'constructor/toString'],
    ['.hidden', '.hidden'],
    ['...', '...'],
    ['a b/c d', 'a b/c d'],
    [long(255), long(255)],
    ['é'.repeat(127) + 'a', 'é'.repeat(127) + 'a'],
  ]
  it.each(ok)('PR1 %j → %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected)
  })
})

describe('normalizePath — hostile inputs are INVALID_PATH (PR3–PR9)', () => {
  const bad: [string, unknown][] = [
    ['PR6 empty', ''],
    ['PR6 dot', '.'],
    ['PR6 dot-slash', './'],
    ['PR6 a/..', 'a/..'],
    ['PR6 double slash', 'a//b'],
    ['PR6 trailing slash', 'a/b/'],
    ['PR6 only slash', '/'],
    ['PR3 absolute', '/etc/passwd'],
    ['PR3 unc', '//server/share'],
    ['PR3 drive', 'C:/Windows'],
    ['PR3 drive lower', 'c:'],
    ['PR4 dotdot', '..'],
    ['PR4 dotdot file', '../x'],
    ['PR4 nested escape', 'a/../../x'],
    ['PR4 deep escape', 'a/b/../../../etc/passwd'],
    ['PR4 dotdot after dot', './../x'],
    ['PR5 NUL', 'a\u0000b'],
    ['PR5 NUL end', 'note.md\u0000'],
    ['PR5 newline', 'a\nb'],
    ['PR5 CR', 'a\rb'],
    ['PR5 tab', 'a\tb'],
    ['PR5 escape', '\u001b[31mred'],
    ['PR5 DEL', 'a\u007f'],
    ['PR5 C1', 'a\u0085b'],
    ['PR5 bell', '\u0007'],
    ['PR5 lone high surrogate', 'a\ud800b'],
    ['PR5 lone low surrogate', 'a\udc00'],
    ['PR7 long segment', long(256)],
    ['PR7 long multibyte segment', 'é'.repeat(128)],
    ['PR7 long emoji segment', '🎉'.repeat(64)],
    ['PR7 long path', Array.from({ length: 20 }, () => long(250)).join('/')],
    ['PR8 backslash', 'a\\b'],
    ['PR8 windows path', 'C:\\Windows\\system32'],
    ['PR8 backslash dotdot', '..\\..\\x'],
    ['PR8 trailing backslash', 'a\\'],
    ['PR9 number', 42],
    ['PR9 null', null],
    ['PR9 undefined', undefined],
    ['PR9 object', { toString: () => 'a' }],
    ['PR9 array', ['a', 'b']],
    ['PR6 dotdot then slash', '../'],
    ['PR4 dotdot with NFC', 'x/../../é'],
  ]
  it.each(bad)('%s', (_label, input) => {
    let err: unknown
    try {
      normalizePath(input)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SkeinError)
    expect((err as SkeinError).code).toBe('INVALID_PATH')
    expect((err as SkeinError).message).toMatch(/Invalid path .*: .*; .*\./)
  })
  it('has at least 40 hostile inputs', () => expect(bad.length).toBeGreaterThanOrEqual(40))
})

describe('normalizeName', () => {
  it('accepts one segment and rejects several', () => {
    expect(normalizeName('a.md')).toBe('a.md')
    expect(() => normalizeName('a/b')).toThrow(SkeinError)
    expect(() => normalizeName('..')).toThrow(SkeinError)
  })
})

describe('pathKey (PK1)', () => {
  it('PK1 folds case and normalization form', () => {
    expect(pathKey('Note.md')).toBe(pathKey('note.md'))
    expect(pathKey('NOTE.MD')).toBe(pathKey('note.md'))
    expect(pathKey('Cafe\u0301')).toBe(pathKey('café'))
    expect(pathKey('Straße')).toBe(pathKey('STRASSE'))
    expect(pathKey('a.md')).not.toBe(pathKey('b.md'))
  })
})

describe('path helpers', () => {
  it('splits extensions and parents', () => {
    expect(splitExt('a.tar.gz')).toEqual({ stem: 'a.tar', ext: '.gz' })
    expect(splitExt('.env')).toEqual({ stem: '.env', ext: '' })
    expect(parentPath('a/b/c')).toBe('a/b')
    expect(parentPath('c')).toBe('')
    expect(baseName('a/b/c.md')).toBe('c.md')
  })
})
