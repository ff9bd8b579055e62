import { describe, expect, it } from 'vitest'
import { isSkeinError } from '@skein/core'
import { createRng, fuzzIterations, fuzzSeed } from '@skein/core/testing'
import * as encoding from 'lib0/encoding'
import {
  FrameType,
  decodeFrame,
  encodeFrame,
  encodeMessageFrame,
  encodeSyncFrame,
  messageFramePrefix,
} from './frame.js'
import { YMessageType, YSyncType } from './message-types.js'
import type { Frame } from './frame.js'
import { parseDocName, workspaceOfDoc } from './doc-name.js'
import { signToken, verifyToken } from './token.js'
import { CloseCode, FATAL_CLOSE_CODES } from './close-codes.js'

const samples: Frame[] = [
  { type: FrameType.AUTH, token: 'abc.def' },
  { type: FrameType.AUTH_OK, workspace: 'ws1', scope: 'read' },
  { type: FrameType.SUBSCRIBE, doc: 'ws1/a', flags: 1, since: 42, sv: new Uint8Array([1, 2]) },
  { type: FrameType.UNSUBSCRIBE, doc: 'ws1/a' },
  { type: FrameType.MESSAGE, doc: 'ws1/a', payload: new Uint8Array([0, 0, 1, 0]) },
  { type: FrameType.ACK, doc: 'ws1/a', count: 7, seq: 2 ** 40 },
  { type: FrameType.DOC_ERROR, doc: 'ws1/a', code: 4403, message: 'no' },
  { type: FrameType.FEED_REQUEST, id: 3, workspace: 'ws1', since: 10, limit: 100 },
  {
    type: FrameType.FEED_RESPONSE,
    id: 3,
    head: 12,
    entries: [{ doc: 'ws1/a', seq: 11 }],
    more: true,
  },
  { type: FrameType.SUBSCRIBED, doc: 'ws1/a', seq: 5, quiet: true },
]

describe('frames', () => {
  it('PR-F1 every frame type round-trips', () => {
    for (const f of samples) expect(decodeFrame(encodeFrame(f))).toEqual(f)
  })

  it('PR-F2 empty, unknown, truncated, trailing and oversized-length frames throw INVALID_INPUT', () => {
    const bad = [
      new Uint8Array(0),
      new Uint8Array([99]),
      new Uint8Array([FrameType.ACK, 5, 119, 115]),
      new Uint8Array([...encodeFrame(samples[3]!), 0]),
      new Uint8Array([FrameType.MESSAGE, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]),
      new Uint8Array([FrameType.MESSAGE, 1, 97]),
    ]
    for (const b of bad) expect(() => decodeFrame(b)).toThrow(/Malformed Skein frame/)
  })

  it('PR-F2 seeded random bytes never escape as anything but INVALID_INPUT', () => {
    const rng = createRng(fuzzSeed('frame decoder'))
    for (let i = 0; i < fuzzIterations(5000); i++) {
      const bytes = new Uint8Array(rng.int(40)).map(() => rng.int(256))
      try {
        decodeFrame(bytes)
      } catch (err) {
        expect(isSkeinError(err, 'INVALID_INPUT')).toBe(true)
      }
    }
  })
})

describe('document names', () => {
  it('PR-N1 accepts workspace and workspace/file names, refuses the rest', () => {
    expect(parseDocName('ws1')).toEqual({ workspace: 'ws1', name: 'ws1' })
    expect(parseDocName('ws1/abc_DEF-1')?.workspace).toBe('ws1')
    for (const bad of [
      '',
      '/x',
      'ws1/',
      'ws1//a',
      '../etc',
      'ws1/a/b/c/d/e',
      'w s',
      'x'.repeat(600),
    ]) {
      expect(parseDocName(bad)).toBeUndefined()
    }
    expect(workspaceOfDoc('ws1/a/b')).toBe('ws1')
  })
})

describe('tokens', () => {
  const secret = 'token-test-secret-0123456789'
  const exp = Math.floor(Date.now() / 1000) + 60

  it('PR-T1 a signed token verifies with its claims', async () => {
    const t = await signToken(secret, { workspace: 'ws1', scope: 'read', exp })
    expect(await verifyToken(secret, t)).toEqual({
      ok: true,
      claims: { workspace: 'ws1', scope: 'read', exp },
    })
  })

  it('PR-T2 wrong secret, tampering, expiry and garbage are refused', async () => {
    const t = await signToken(secret, { workspace: 'ws1', scope: 'read', exp })
    expect(await verifyToken('another-secret-0123456789', t)).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    const [body, sig] = t.split('.')
    const forged = btoa(JSON.stringify({ w: 'ws1', s: 'write', e: exp })).replace(/=+$/, '')
    expect((await verifyToken(secret, `${forged}.${sig}`)).ok).toBe(false)
    expect(await verifyToken(secret, t, (exp + 1) * 1000)).toEqual({ ok: false, reason: 'expired' })
    expect(await verifyToken(secret, 'garbage')).toEqual({ ok: false, reason: 'malformed' })
    expect(body).toBeTruthy()
    await expect(signToken('short', { workspace: 'w', scope: 'read', exp })).rejects.toThrow(
      /too short/,
    )
  })

  it('PR-C2 4401 and 4403 are fatal for clients, others are retried', () => {
    expect(FATAL_CLOSE_CODES.has(CloseCode.UNAUTHORIZED)).toBe(true)
    expect(FATAL_CLOSE_CODES.has(CloseCode.FORBIDDEN)).toBe(true)
    expect(FATAL_CLOSE_CODES.has(CloseCode.RATE_LIMITED)).toBe(false)
  })
})

describe('encodeSyncFrame', () => {
  it('PR-F1 a MESSAGE prefix is the start of encodeMessageFrame for any name (non-ASCII, > 127 bytes)', () => {
    for (const doc of [
      'ws1/doc',
      'ws1/zürich/日本/🎉',
      `ws1/${'n'.repeat(200)}`,
      `w/${'é'.repeat(9000)}`,
    ]) {
      const full = encodeMessageFrame(doc, new Uint8Array([7, 8]))
      const prefix = messageFramePrefix(doc)
      expect(prefix.length).toBe(full.length - 2)
      expect(Array.from(prefix)).toEqual(Array.from(full.subarray(0, prefix.length)))
    }
  })

  it('PR-F1 builds the same bytes as a sync message wrapped in a MESSAGE frame, for every length class', () => {
    const prefix = messageFramePrefix('ws1/doc')
    const same = (a: Uint8Array, b: Uint8Array) =>
      a.length === b.length && a.every((x, i) => x === b[i])
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_152]) {
      const update = new Uint8Array(n).map((_, i) => i & 255)
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, YMessageType.SYNC)
      encoding.writeVarUint(e, YSyncType.UPDATE)
      encoding.writeVarUint8Array(e, update)
      const expected = encoding.toUint8Array(e)
      const { frame, message } = encodeSyncFrame(prefix, YSyncType.UPDATE, update)
      expect(same(message, expected)).toBe(true)
      expect(same(frame, encodeMessageFrame('ws1/doc', expected))).toBe(true)
      expect(decodeFrame(frame)).toMatchObject({ type: FrameType.MESSAGE, doc: 'ws1/doc' })
    }
  })
})
