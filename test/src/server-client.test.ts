/** SyncClient behaviour against a real server: reconnect and change-feed resync (SPEC.md PR-R1…R3). */
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { MemoryDocStore } from '@skein/core'
import type { ChangePage, DocStore } from '@skein/core'
import * as decoding from 'lib0/decoding'
import { FrameType, SUBSCRIBE_QUIET, YMessageType, YSyncType, decodeFrame } from '@skein/protocol'
import type { Frame } from '@skein/protocol'
import type { WebSocketConstructor } from '@skein/client'
import { RemoteOrigin } from '@skein/client'
import type { SyncServer } from '@skein/server'
import { RawSocket, newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

/** A store that survives `server.close()`, so a restarted server sees the same data. */
class KeptStore implements DocStore {
  readonly inner = new MemoryDocStore()
  load = (d: string) => this.inner.load(d)
  append = (d: string, u: Uint8Array) => this.inner.append(d, u)
  compact = (d: string, s: Uint8Array) => this.inner.compact(d, s)
  list = (w?: string) => this.inner.list(w)
  delete = (d: string) => this.inner.delete(d)
  changes = (w: string, s: number, l?: number): Promise<ChangePage> => this.inner.changes(w, s, l)
  close = async () => undefined
}

/** Records every frame the client receives. */
const received: Uint8Array[] = []
class RecordingSocket extends WebSocket {
  constructor(url: string) {
    super(url)
    this.on('message', (d) => received.push(new Uint8Array(d as Buffer)))
  }
}

/** Two clients with one document each, both open on `doc` and synced. */
async function twoClients(url: string, doc: string) {
  const a = newClient(url)
  const b = newClient(url)
  const da = new Y.Doc()
  const db = new Y.Doc()
  const ha = a.open(doc, da)
  const hb = b.open(doc, db)
  await Promise.all([ha.whenSynced, hb.whenSynced])
  return { a, b, da, db, ha, hb }
}

describe('SyncClient', () => {
  let server: SyncServer | undefined
  afterEach(async () => {
    await server?.close()
  })

  it('PR-R2 after a reconnect only documents that changed resync; the others resubscribe quietly', async () => {
    const store = new KeptStore()
    server = await startServer({ store })
    const port = server.port
    const client = newClient(server.url, {
      WebSocket: RecordingSocket as unknown as WebSocketConstructor,
    })
    const docs = Array.from({ length: 10 }, () => new Y.Doc())
    const handles = docs.map((d, i) => client.open(`ws1/d${i}`, d))
    await Promise.all(handles.map((h) => h.whenSynced))
    docs.forEach((d, i) => d.getText('t').insert(0, `v${i}`))
    await waitFor(() => handles.every((h) => h.unsyncedChanges === 0), 'acks')

    await server.close()
    await waitFor(() => client.status === 'offline', 'offline')
    // while the client is away, another writer changes d3 through a new server on the same store
    server = await startServer({ store, port: 0 })
    const other = newClient(server.url)
    const d3 = new Y.Doc()
    const h3 = other.open('ws1/d3', d3)
    await h3.whenSynced
    d3.getText('t').insert(0, 'remote;')
    await waitFor(() => h3.unsyncedChanges === 0, 'remote ack')
    other.close()
    await server.close()

    received.length = 0
    server = await startServer({ store, port })
    await waitFor(() => handles.every((h) => h.status === 'synced'), 'resync')
    await waitFor(() => textOf(docs[3]!) === 'remote;v3', 'remote change arrived')
    const subscribed = received
      .map((f) => decodeFrame(f))
      .filter((f) => f.type === FrameType.SUBSCRIBED)
    expect(subscribed.filter((f) => !f.quiet).map((f) => f.doc)).toEqual(['ws1/d3'])
    expect(subscribed.filter((f) => f.quiet)).toHaveLength(9)
    client.close()
  })

  it('PR-R3 remote updates carry a RemoteOrigin and are never echoed back', async () => {
    server = await startServer()
    const { a, b, da, db, hb } = await twoClients(server.url, 'ws1/echo')
    const origins: unknown[] = []
    db.on('update', (_u: Uint8Array, origin: unknown) => origins.push(origin))
    da.getText('t').insert(0, 'hi')
    await waitFor(() => textOf(db) === 'hi', 'delivery')
    expect(origins.every((o) => o instanceof RemoteOrigin)).toBe(true)
    const framesIn = server.metrics.framesIn
    await new Promise((r) => setTimeout(r, 100))
    expect(hb.unsyncedChanges).toBe(0)
    expect(server.metrics.framesIn - framesIn).toBeLessThanOrEqual(1)
    a.close()
    b.close()
  })

  it('PR-R3 a local change an observer makes while a remote update is applied is still sent', async () => {
    server = await startServer()
    const { a, b, da, db, hb } = await twoClients(server.url, 'ws1/observer')
    // b answers "ping" from inside the observer, i.e. during the remote apply
    const tb = db.getText('t')
    tb.observe(() => {
      if (tb.toJSON() === 'ping') tb.insert(4, 'pong')
    })
    da.getText('t').insert(0, 'ping')
    await waitFor(() => textOf(da) === 'pingpong', 'the observer’s change reached a')
    await waitFor(() => hb.unsyncedChanges === 0, 'b’s change acked')
    // b's own listener is attached again: a later local edit leaves too
    tb.insert(0, '>')
    await waitFor(() => textOf(da) === '>pingpong', 'a later local edit of b reached a')
    a.close()
    b.close()
  })

  it('PR-R6 awareness is announced once the application sets a state, never the initial {}', async () => {
    server = await startServer()
    // every frame the client sends, decoded
    const sent: Frame[] = []
    class SendRecordingSocket extends WebSocket {
      override send(data: Uint8Array): void {
        sent.push(decodeFrame(new Uint8Array(data)))
        super.send(data)
      }
    }
    const a = newClient(server.url, {
      WebSocket: SendRecordingSocket as unknown as WebSocketConstructor,
    })
    const da = new Y.Doc()
    const ha = a.open('ws1/presence', da)
    await ha.whenSynced
    const awarenessFrames = () =>
      sent.filter((f) => f.type === FrameType.MESSAGE && f.payload[0] === YMessageType.AWARENESS)
    expect(sent.some((f) => f.type === FrameType.SUBSCRIBE)).toBe(true)
    expect(awarenessFrames()).toHaveLength(0)
    ha.awareness.setLocalStateField('user', 'ana')
    expect(awarenessFrames()).toHaveLength(1)
    ha.close()
    expect(awarenessFrames()).toHaveLength(2) // the removal
    a.close()
  })

  it('PR-R7 a handle creates its Awareness on first use: the application or a peer’s state', async () => {
    server = await startServer()
    const { a, b, ha, hb } = await twoClients(server.url, 'ws1/lazy-presence')
    const created = (h: object) => (h as { aw?: unknown }).aw !== undefined
    expect(created(ha)).toBe(false)
    expect(created(hb)).toBe(false)
    hb.awareness.setLocalStateField('user', 'bob')
    expect(created(hb)).toBe(true)
    // a peer's state arriving creates a's awareness, holding that state
    await waitFor(() => created(ha), 'a’s awareness created by b’s state')
    const aw = (ha as unknown as { aw: typeof ha.awareness }).aw
    await waitFor(
      () => [...aw.getStates().values()].some((st) => st.user === 'bob'),
      'b’s state at a',
    )
    expect(ha.awareness).toBe(aw)
    // read first after close: usable, but its timer is stopped (the process can exit)
    const c = newClient(server.url)
    const hc = c.open('ws1/lazy-closed', new Y.Doc())
    await hc.whenSynced
    hc.close()
    const late = hc.awareness as unknown as { _checkInterval: { _destroyed: boolean } }
    expect(late._checkInterval._destroyed).toBe(true)
    a.close()
    b.close()
    c.close()
  })

  it('PR-F4 a subscriber with an empty state vector gets step 2 but no step 1; one with content gets both', async () => {
    const url = (server = await startServer()).url
    const writer = newClient(url)
    const doc = new Y.Doc()
    const h = writer.open('ws1/e', doc)
    await h.whenSynced
    doc.getText('t').insert(0, 'content')
    await waitFor(() => h.unsyncedChanges === 0, 'ack')
    const steps = async (sv: Uint8Array) => {
      const raw = new RawSocket(`${url}/_skein/v1`)
      await raw.opened
      raw.sendFrame({ type: FrameType.SUBSCRIBE, doc: 'ws1/e', flags: 0, since: 0, sv })
      const sync = () =>
        raw
          .decoded()
          .flatMap((f) =>
            f.type === FrameType.MESSAGE && f.payload[0] === 0 ? [f.payload[1]] : [],
          )
      await raw.until(() => sync().includes(YSyncType.STEP2), 'a step 2')
      // a round trip after it: a step 1 sent with the step 2 has arrived by then
      raw.sendFrame({ type: FrameType.FEED_REQUEST, id: 1, workspace: 'ws1', since: 0, limit: 1 })
      await raw.until(() => raw.decoded().some((f) => f.type === FrameType.FEED_RESPONSE), 'feed')
      raw.close()
      return sync()
    }
    expect(await steps(Y.encodeStateVector(new Y.Doc()))).toEqual([YSyncType.STEP2])
    const other = new Y.Doc()
    other.getText('u').insert(0, 'local')
    expect(await steps(Y.encodeStateVector(other))).toEqual([YSyncType.STEP2, YSyncType.STEP1])
    writer.close()
  })

  it('PR-F4 a refused quiet SUBSCRIBE without a state vector is answered with the whole state as step 2', async () => {
    server = await startServer()
    const writer = newClient(server.url)
    const doc = new Y.Doc()
    const h = writer.open('ws1/q', doc)
    await h.whenSynced
    doc.getText('t').insert(0, 'one')
    await waitFor(() => h.unsyncedChanges === 0, 'ack')
    doc.getText('t').insert(3, ' two')
    await waitFor(() => h.unsyncedChanges === 0, 'second ack') // seq is now 2
    // an older client that resubscribes quietly on a stale head (since = 1), without its vector
    const raw = new RawSocket(`${server.url}/_skein/v1`)
    await raw.opened
    raw.sendFrame({
      type: FrameType.SUBSCRIBE,
      doc: 'ws1/q',
      flags: SUBSCRIBE_QUIET,
      since: 1,
      sv: new Uint8Array(0),
    })
    const step2 = () =>
      raw.decoded().flatMap((f) => {
        if (f.type !== FrameType.MESSAGE) return []
        const d = decoding.createDecoder(f.payload)
        if (decoding.readVarUint(d) !== YMessageType.SYNC) return []
        if (decoding.readVarUint(d) !== YSyncType.STEP2) return []
        return [decoding.readVarUint8Array(d)]
      })
    await raw.until(() => step2().length > 0, 'a step 2')
    const subscribed = raw.decoded().find((f) => f.type === FrameType.SUBSCRIBED)
    expect(subscribed).toMatchObject({ quiet: false, seq: 2 })
    const copy = new Y.Doc()
    Y.applyUpdate(copy, step2()[0]!)
    expect(textOf(copy)).toBe('one two')
    raw.close()
    writer.close()
  })

  it('PR-R1 a connection attempt whose handshake never completes is abandoned after connectTimeoutMs and retried', async () => {
    // fault injection: a TCP listener that accepts and then never answers the upgrade
    const held: Socket[] = []
    const silent = createServer((s) => void held.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
    const port = (silent.address() as { port: number }).port
    const client = newClient(`ws://127.0.0.1:${port}`, { connectTimeoutMs: 100 })
    const statuses: string[] = []
    client.onStatus((s) => statuses.push(s))
    await waitFor(
      () => held.length >= 3,
      () => `retries; ${held.length} attempt(s)`,
    )
    expect(statuses).toContain('offline')
    expect(client.status).not.toBe('connected')
    client.close()
    held.forEach((s) => s.destroy())
    await new Promise((r) => silent.close(r))
  })

  it('rejects bad input with clear errors', async () => {
    expect(() => newClient('http://127.0.0.1:1')).toThrow(/ws:\/\/ or wss:\/\//)
    expect(() => newClient('ws://127.0.0.1:1', { maxBackoffMs: -1 })).toThrow(/maxBackoffMs/)
    const c = newClient('ws://127.0.0.1:1')
    expect(() => c.open('bad name', new Y.Doc())).toThrow(/Cannot open document "bad name"/)
    expect(() => c.open('ws1/x', {} as Y.Doc)).toThrow(/pass a Y.Doc/)
    await expect(c.changes('ws1/x', 0)).rejects.toThrow(/workspace id/)
    await expect(c.changes('ws1', -1)).rejects.toThrow(/since must be/)
    c.close()
  })
})
