/**
 * SyncClient heartbeat (SPEC.md PR-R5) against a real server through a real TCP
 * fault proxy: a half-open link (blackholed: no data, no FIN, no RST) is noticed
 * by the client itself and replaced, long before the server's 30 s ping would
 * close it; a healthy idle link is probed and kept.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { FrameType, decodeFrame } from '@skein/protocol'
import type { SyncClient, WebSocketConstructor } from '@skein/client'
import type { SyncServer } from '@skein/server'
import { FaultProxy } from './chaos/fault-proxy.js'
import { newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

/** Frame types the client received, in order. */
const received: number[] = []
class RecordingSocket extends WebSocket {
  constructor(url: string) {
    super(url)
    this.on('message', (d) => received.push(decodeFrame(new Uint8Array(d as Buffer)).type))
  }
}

describe('SyncClient heartbeat', () => {
  let server: SyncServer | undefined
  let proxy: FaultProxy | undefined
  const clients: SyncClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await proxy?.close()
    await server?.close()
    received.length = 0
  })

  it('PR-R5 a blackholed (half-open) link is dropped and replaced; edits on both sides get through', async () => {
    // the server's own ping (30 s default) would close the link only long after the deadline below
    server = await startServer()
    proxy = new FaultProxy(server.port)
    await proxy.listen()
    const viaProxy = newClient(proxy.url, { heartbeatMs: 300, heartbeatTimeoutMs: 300 })
    const direct = newClient(server.url)
    clients.push(viaProxy, direct)
    const a = new Y.Doc()
    const b = new Y.Doc()
    const ha = viaProxy.open('ws1/note', a)
    const hb = direct.open('ws1/note', b)
    await Promise.all([ha.whenSynced, hb.whenSynced])
    a.getText('t').insert(0, 'before;')
    await waitFor(() => textOf(b) === 'before;', 'the first edit')
    expect(proxy.accepted).toBe(1)

    // the established socket goes silent for good; new connections are forwarded again
    proxy.setMode('blackhole')
    proxy.setMode('up')
    b.getText('t').insert(textOf(b).length, 'remote;')
    a.getText('t').insert(0, 'local;')

    await waitFor(
      () =>
        textOf(a) === textOf(b) && textOf(a).includes('remote;') && textOf(b).includes('local;'),
      () => `both edits on both sides; a=${textOf(a)} b=${textOf(b)} status=${viaProxy.status}`,
      15_000,
    )
    await waitFor(() => ha.unsyncedChanges === 0, 'the local edit acked after the reconnect')
    expect(proxy.accepted).toBeGreaterThanOrEqual(2)
    expect(viaProxy.status).toBe('connected')
  })

  it('PR-R5 an idle healthy link is probed, the server answers, and the link is kept', async () => {
    server = await startServer()
    proxy = new FaultProxy(server.port)
    await proxy.listen()
    const client = newClient(proxy.url, {
      WebSocket: RecordingSocket as unknown as WebSocketConstructor,
      heartbeatMs: 50,
      heartbeatTimeoutMs: 5_000,
    })
    clients.push(client)
    const h = client.open('ws1/idle', new Y.Doc())
    await h.whenSynced
    const probes = () => received.filter((t) => t === FrameType.FEED_RESPONSE).length
    const before = probes()
    await waitFor(
      () => probes() >= before + 3,
      () => `3 probe answers, got ${probes() - before}`,
    )
    expect(proxy.accepted).toBe(1)
    expect(client.status).toBe('connected')
  })

  it('PR-R5 heartbeatMs 0 sends no probes', async () => {
    server = await startServer()
    const client = newClient(server.url, {
      WebSocket: RecordingSocket as unknown as WebSocketConstructor,
      heartbeatMs: 0,
    })
    clients.push(client)
    const h = client.open('ws1/quiet', new Y.Doc())
    await h.whenSynced
    const feeds = received.filter((t) => t === FrameType.FEED_RESPONSE).length
    await new Promise((r) => setTimeout(r, 300))
    expect(received.filter((t) => t === FrameType.FEED_RESPONSE).length).toBe(feeds)
  })

  it('rejects bad heartbeat options with clear errors', () => {
    expect(() => newClient('ws://127.0.0.1:1', { heartbeatMs: -1 })).toThrow(
      /heartbeatMs must be a number of milliseconds from 0 .* \(0 disables the heartbeat\), got -1/,
    )
    expect(() => newClient('ws://127.0.0.1:1', { heartbeatTimeoutMs: 0 })).toThrow(
      /heartbeatTimeoutMs must be a number of milliseconds from 1/,
    )
  })
})
