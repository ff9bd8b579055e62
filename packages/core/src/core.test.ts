import { describe, expect, it } from 'vitest'
import { SkeinError, isSkeinError } from './errors.js'
import { asContentHash, asWorkspaceId, isFileId, newFileId } from './ids.js'
import { sha256Hex } from './hash.js'
import { sha256HexSync, hashFile } from './node.js'
import { createConsoleLogger } from './logger.js'
import { createRng } from './testing/prng.js'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

describe('ids (ID1)', () => {
  it('ID1 generates distinct valid FileIds', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newFileId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(isFileId(id) && /^[a-z0-9]{20}$/.test(id)).toBe(true)
  })
  it('rejects bad workspace ids and hashes with INVALID_INPUT', () => {
    expect(asWorkspaceId('notes-1')).toBe('notes-1')
    for (const bad of ['', '../x', 'a/b', '-x', 'x'.repeat(65), 7])
      expect(() => asWorkspaceId(bad)).toThrow(/Invalid workspace id/)
    expect(() => asContentHash('ABC')).toThrow(SkeinError)
  })
})

describe('errors (ER1)', () => {
  it('ER1 classifies retryable codes', () => {
    expect(new SkeinError('TRANSIENT', 'x').retryable).toBe(true)
    expect(new SkeinError('INVALID_PATH', 'x').retryable).toBe(false)
    expect(new SkeinError('INVALID_PATH', 'x', { retryable: true }).retryable).toBe(true)
    const cause = new Error('io')
    const e = new SkeinError('IO', 'x', { cause })
    expect(e.cause).toBe(cause)
    expect(isSkeinError(e, 'IO')).toBe(true)
    expect(isSkeinError(e, 'TRANSIENT')).toBe(false)
  })
})

describe('hashing', () => {
  it('WebCrypto, sync and streaming hashes agree with the known sha-256 vector', async () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    expect(await sha256Hex('abc')).toBe(abc)
    expect(sha256HexSync('abc')).toBe(abc)
    const dir = await mkdtemp(join(tmpdir(), 'skein-core-'))
    await writeFile(join(dir, 'f'), 'abc')
    expect(await hashFile(join(dir, 'f'))).toEqual({ hash: abc, size: 3 })
  })
})

describe('logger', () => {
  it('redacts secret-looking fields', () => {
    const lines: string[] = []
    const log = createConsoleLogger({ json: true, write: (l) => lines.push(l) })
    log.info('connected', { token: 'sekrit', room: 'w1' })
    expect(lines[0]).not.toContain('sekrit')
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'connected',
      room: 'w1',
      token: '[redacted]',
    })
  })
})

describe('prng', () => {
  it('is reproducible per seed', () => {
    const a = createRng(42)
    const b = createRng(42)
    expect(Array.from({ length: 5 }, () => a.int(1000))).toEqual(
      Array.from({ length: 5 }, () => b.int(1000)),
    )
  })
})
