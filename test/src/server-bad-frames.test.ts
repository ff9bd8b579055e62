/**
 * Bad clients at the frame level (SPEC.md PR-F2, PR-L1…L4, PR-A1…A3): each is
 * closed with its documented code while an honest pair keeps syncing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { CloseCode, FrameType, signToken } from '@skein/protocol'
import type { SyncServer } from '@skein/server'
import { HonestPair } from './helpers/server-honest.js'
import { RawSocket, startServer, waitFor } from './helpers/server-helpers.js'
import { attacker, awarenessPayload } from './helpers/server-attacker.js'

const SECRET = 'bad-client-test-secret-0123456789'
const exp = () => Math.floor(Date.now() / 1000) + 3600

describe('bad clients: frames', () => {
  let server: SyncServer
  let honest: HonestPair
  let token: string

  beforeAll(async () => {
    server = await startServer({
      auth: { mode: 'token', secret: SECRET },
      maxDocsPerConnection: 100,
      maxBufferedBytes: 256 * 1024,
      maxPayload: 16 * 1024 * 1024,
    })
    token = await signToken(SECRET, { workspace: 'ws1', scope: 'write', exp: exp() })
    honest = new HonestPair(server.url, 'ws1/shared', token)
    await honest.start()
  })
  afterAll(async () => {
    honest.stop()
    await server.close()
  })

  async function closedWith(send: (s: RawSocket) => void, path = '/_skein/v1'): Promise<number> {
    const s = new RawSocket(`${server.url}${path}?token=${token}`)
    await s.opened
    send(s)
    const code = await s.closed
    await honest.roundTrip()
    return code
  }

  it('PR-F2 random bytes, empty frames, text frames and truncated varints close with 4400', async () => {
    expect(await closedWith((s) => s.send(new Uint8Array([0xff, 0xff, 0xff, 0x7f, 1, 2, 3])))).toBe(
      CloseCode.BAD_FRAME,
    )
    expect(await closedWith((s) => s.send(new Uint8Array(0)))).toBe(CloseCode.BAD_FRAME)
    expect(await closedWith((s) => s.send('hello'))).toBe(CloseCode.BAD_FRAME)
    expect(await closedWith((s) => s.send(new Uint8Array([FrameType.SUBSCRIBE, 0x80])))).toBe(
      CloseCode.BAD_FRAME,
    )
    expect(await closedWith((s) => s.send(new Uint8Array([0x80])), '/ws1/legacy')).toBe(
      CloseCode.BAD_FRAME,
    )
    expect(await closedWith((s) => s.send('text'), '/ws1/legacy')).toBe(CloseCode.BAD_FRAME)
  })

  it('PR-F2 a huge length prefix is refused without buffering', async () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, FrameType.MESSAGE)
    encoding.writeVarUint(e, 2 ** 40)
    encoding.writeUint8Array(e, new Uint8Array([1, 2, 3]))
    expect(await closedWith((s) => s.send(encoding.toUint8Array(e)))).toBe(CloseCode.BAD_FRAME)
  })

  it('PR-L1 a frame over maxPayload closes with 4413', async () => {
    const big = new Uint8Array(17 * 1024 * 1024)
    expect(await closedWith((s) => s.send(big))).toBe(CloseCode.TOO_LARGE)
  })

  it('PR-T3 a valid frame for a room outside the token gets 4403 (per document, or on the legacy socket)', async () => {
    const s = await attacker(server.url, 'ws2/secret', token)
    const err = s.decoded().find((f) => f.type === FrameType.DOC_ERROR)
    expect(err).toMatchObject({ doc: 'ws2/secret', code: CloseCode.FORBIDDEN })
    s.sendFrame({
      type: FrameType.MESSAGE,
      doc: 'ws2/secret',
      payload: new Uint8Array([0, 0, 1, 0]),
    })
    expect(await s.closed).toBe(CloseCode.BAD_FRAME)
    expect(server.inspect('ws2/secret')).toBeUndefined()
    expect(await closedWith(() => undefined, '/ws2/secret')).toBe(CloseCode.FORBIDDEN)
  })

  it('PR-L2 10,000 subscribe frames: closed at the per-connection document limit (4430)', async () => {
    const s = new RawSocket(`${server.url}/_skein/v1?token=${token}`)
    await s.opened
    for (let i = 0; i < 10_000; i++) {
      s.sendFrame({
        type: FrameType.SUBSCRIBE,
        doc: `ws1/flood${i}`,
        flags: 0,
        since: 0,
        sv: new Uint8Array(0),
      })
    }
    expect(await s.closed).toBe(CloseCode.TOO_MANY_DOCS)
    await honest.roundTrip()
    expect(server.loadedDocs).toBeLessThanOrEqual(102)
  })

  it('PR-A2 a 20 MiB awareness state closes with 4413; a 20 KiB one too (cap 16 KiB)', async () => {
    const s = await attacker(server.url, 'ws1/shared', token)
    const huge = awarenessPayload([
      [424242, 1, JSON.stringify({ x: 'y'.repeat(20 * 1024 * 1024) })],
    ])
    s.sendFrame({ type: FrameType.MESSAGE, doc: 'ws1/shared', payload: huge })
    expect(await s.closed).toBe(CloseCode.TOO_LARGE)
    const t = await attacker(server.url, 'ws1/shared', token)
    t.sendFrame({
      type: FrameType.MESSAGE,
      doc: 'ws1/shared',
      payload: awarenessPayload([[424243, 1, JSON.stringify({ x: 'y'.repeat(20 * 1024) })]]),
    })
    expect(await t.closed).toBe(CloseCode.TOO_LARGE)
    await honest.roundTrip()
  })

  it("PR-A1 a connection cannot remove or overwrite another client's awareness", async () => {
    const readerAwareness = honest.reader['handles'].get('ws1/shared')!.awareness
    honest.writerHandle.awareness.setLocalStateField('user', 'honest')
    const id = honest.writerDoc.clientID
    await waitFor(() => readerAwareness.getStates().get(id)?.user === 'honest', 'honest awareness')
    const s = await attacker(server.url, 'ws1/shared', token)
    const clock = honest.writerHandle.awareness.meta.get(id)!.clock
    s.sendFrame({
      type: FrameType.MESSAGE,
      doc: 'ws1/shared',
      payload: awarenessPayload([[id, clock + 5, 'null']]),
    })
    s.sendFrame({
      type: FrameType.MESSAGE,
      doc: 'ws1/shared',
      payload: awarenessPayload([[id, clock + 6, '{"user":"mallory"}']]),
    })
    await honest.roundTrip()
    expect(readerAwareness.getStates().get(id)?.user).toBe('honest')
    s.close()
  })

  it('PR-L4 a slow reader that never reads is dropped; others keep syncing', async () => {
    const s = await attacker(server.url, 'ws1/shared', token)
    const socket = (s.ws as unknown as { _socket: { pause(): void } })._socket
    socket.pause()
    const before = server.connectionCount
    for (let i = 0; i < 40 && server.connectionCount >= before; i++) {
      honest.writerDoc.getText('big').insert(0, 'x'.repeat(128 * 1024))
      await honest.roundTrip()
    }
    await waitFor(() => server.connectionCount < before, 'slow reader dropped')
    await honest.roundTrip()
    s.close()
  })

  it('PR-L3 a frame flood closes with 4429', async () => {
    const flood = await startServer({ messageRate: 100, messageBurst: 200 })
    const s = new RawSocket(`${flood.url}/_skein/v1`)
    await s.opened
    for (let i = 0; i < 1000; i++)
      s.sendFrame({ type: FrameType.FEED_REQUEST, id: i, workspace: 'ws1', since: 0, limit: 1 })
    expect(await s.closed).toBe(CloseCode.RATE_LIMITED)
    await flood.close()
    await honest.roundTrip()
  })
})
