/** isText (SPEC.md IT1–IT3). */
import { utf8 } from '@skein/core'
import { describe, expect, it } from 'vitest'
import { isText } from './is-text.js'

describe('isText', () => {
  it('IT3 accepts valid UTF-8, including empty input, emoji, CJK and a BOM', () => {
    expect(isText(new Uint8Array())).toBe(true)
    expect(isText(utf8('# Notes\r\n日本語 😀 café\n'))).toBe(true)
    expect(isText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe(true)
  })
  it('IT2 rejects a NUL byte in the first 8 KiB, but not after it', () => {
    expect(isText(new Uint8Array([0x61, 0x00, 0x62]))).toBe(false)
    const late = new Uint8Array(9000).fill(0x61)
    late[8500] = 0
    expect(isText(late)).toBe(true)
    late[8000] = 0
    expect(isText(late)).toBe(false)
    expect(isText(late, { sniffBytes: 100 })).toBe(true)
  })
  it('IT3 rejects invalid UTF-8: stray continuation, truncated sequence, overlong, surrogate', () => {
    for (const bad of [
      [0x80],
      [0xe6, 0x97],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xff],
      [0x61, 0xf8, 0x88, 0x80, 0x80, 0x80],
    ])
      expect(isText(new Uint8Array(bad)), JSON.stringify(bad)).toBe(false)
  })
  it('IT1 rejects input over maxBytes', () => {
    const bytes = utf8('a'.repeat(101))
    expect(isText(bytes, { maxBytes: 100 })).toBe(false)
    expect(isText(bytes, { maxBytes: 101 })).toBe(true)
    expect(isText(new Uint8Array(8 * 1024 * 1024 + 1).fill(0x61))).toBe(false)
  })
})
