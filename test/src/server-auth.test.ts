/** Auth matrix (SPEC.md PR-T1…PR-T4) on both endpoints and the blob route. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { CloseCode, signToken } from '@skein/protocol'
import { SyncServer } from '@skein/server'
import { MemoryBlobStore, isSkeinError, sha256Hex } from '@skein/core'
import { uploadBlob, blobExists } from '@skein/client'
import { HonestPair } from './helpers/server-honest.js'
import { RawSocket, newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

const SECRET = 'auth-matrix-secret-0123456789abcdef'
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600

describe('auth matrix', () => {
  let server: SyncServer
  let honest: HonestPair
  let write: string
  beforeAll(async () => {
    server = await startServer({
      auth: { mode: 'token', secret: SECRET },
      blobs: new MemoryBlobStore(),
      authTimeoutMs: 300,
    })
    write = await signToken(SECRET, { workspace: 'ws1', scope: 'write', exp: inAnHour() })
    honest = new HonestPair(server.url, 'ws1/doc', write)
    await honest.start()
  })
  afterAll(async () => {
    honest.stop()
    await server.close()
  })

  const legacyClose = async (query: string) => {
    const s = new RawSocket(`${server.url}/ws1/doc${query}`)
    return s.closed
  }

  it('PR-T1 open mode is refused off loopback', () => {
    expect(() => new SyncServer({ host: '0.0.0.0' })).toThrow(/open \(unauthenticated\) mode/)
  })

  it('PR-T2 no token, a bad signature and an expired token close with 4401', async () => {
    const wrong = await signToken('another-secret-0123456789abcdef', {
      workspace: 'ws1',
      scope: 'write',
      exp: inAnHour(),
    })
    const expired = await signToken(SECRET, {
      workspace: 'ws1',
      scope: 'write',
      exp: Math.floor(Date.now() / 1000) - 5,
    })
    expect(await legacyClose('')).toBe(CloseCode.UNAUTHORIZED)
    expect(await legacyClose(`?token=${wrong}`)).toBe(CloseCode.UNAUTHORIZED)
    expect(await legacyClose(`?token=${expired}`)).toBe(CloseCode.UNAUTHORIZED)
    expect(await legacyClose('?token=garbage')).toBe(CloseCode.UNAUTHORIZED)
    for (const token of [undefined, wrong, expired]) {
      const c = newClient(server.url, { token })
      const h = c.open('ws1/doc', new Y.Doc())
      await expect(h.whenSynced).rejects.toSatisfy((e) => isSkeinError(e, 'NOT_AUTHORIZED'))
      expect(c.status).toBe('error')
      c.close()
    }
    await honest.roundTrip()
  })

  it('PR-T3 another workspace: 4403 on the legacy endpoint, a per-document error on the multiplexed one', async () => {
    const other = await signToken(SECRET, { workspace: 'ws2', scope: 'write', exp: inAnHour() })
    expect(await legacyClose(`?token=${other}`)).toBe(CloseCode.FORBIDDEN)
    const c = newClient(server.url, { token: other })
    const h = c.open('ws1/doc', new Y.Doc())
    await waitFor(() => h.status === 'error', 'per-document error')
    c.close()
    await honest.roundTrip()
  })

  it('PR-T4 read-only tokens sync and see awareness but their updates are refused', async () => {
    const read = await signToken(SECRET, { workspace: 'ws1', scope: 'read', exp: inAnHour() })
    const doc = new Y.Doc()
    const c = newClient(server.url, { token: read })
    const h = c.open('ws1/doc', doc)
    await h.whenSynced
    expect(textOf(doc)).toBe(textOf(honest.writerDoc))
    honest.writerHandle.awareness.setLocalStateField('user', 'writer')
    await waitFor(
      () => [...h.awareness.getStates().values()].some((s) => s.user === 'writer'),
      'awareness to reader',
    )
    doc.getText('t').insert(0, 'READONLY')
    await waitFor(() => h.status === 'error', 'refusal reported')
    expect(h.unsyncedChanges).toBe(1)
    // the stock provider with a read token: syncs, but its write goes nowhere
    const pdoc = new Y.Doc()
    const p = new WebsocketProvider(server.url, 'ws1/doc', pdoc, {
      WebSocketPolyfill: WebSocket as never,
      params: { token: read },
    })
    await new Promise((r) => p.once('sync', r))
    pdoc.getText('t').insert(0, 'PROVIDER')
    await honest.roundTrip()
    expect(textOf(honest.readerDoc)).not.toMatch(/READONLY|PROVIDER/)
    p.destroy()
    c.close()
  })

  it('PR-B2 blobs: uploads need a write token for the workspace', async () => {
    const data = new TextEncoder().encode('blob bytes')
    const hash = await sha256Hex(data)
    const read = await signToken(SECRET, { workspace: 'ws1', scope: 'read', exp: inAnHour() })
    const base = server.url.replace('ws:', 'http:')
    await expect(uploadBlob({ url: base, workspace: 'ws1', hash }, data)).rejects.toSatisfy((e) =>
      isSkeinError(e, 'NOT_AUTHORIZED'),
    )
    await expect(
      uploadBlob({ url: base, workspace: 'ws1', hash, token: read }, data),
    ).rejects.toSatisfy((e) => isSkeinError(e, 'FORBIDDEN'))
    await expect(
      uploadBlob({ url: base, workspace: 'ws2', hash, token: write }, data),
    ).rejects.toSatisfy((e) => isSkeinError(e, 'FORBIDDEN'))
    expect(await uploadBlob({ url: base, workspace: 'ws1', hash, token: write }, data)).toBe(
      data.length,
    )
    expect(await blobExists({ url: base, workspace: 'ws1', hash, token: read })).toBe(data.length)
  })
})
