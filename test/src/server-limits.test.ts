/**
 * Connection-level limits against a real server on 127.0.0.1 (SPEC.md PR-L3,
 * PR-L5, PR-L6): each bad or surplus connection is refused or dropped while an
 * honest pair keeps syncing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { WebSocketConstructor } from '@skein/client'
import { CloseCode } from '@skein/protocol'
import { SyncServer } from '@skein/server'
import { HonestPair } from './helpers/server-honest.js'
import { RawSocket, newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

/** What a browser on `origin` sends: the `Origin` header on the upgrade request. */
function socketFrom(origin: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { origin })
    }
  } as unknown as WebSocketConstructor
}

/** How an upgrade attempt ended: `open`, or the refusal (`HTTP 503`, `ECONNREFUSED`, …). */
async function attempt(url: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  const s = new RawSocket(url, options)
  try {
    await s.opened
    s.close()
    return 'open'
  } catch (err) {
    return (err as Error).message
  }
}

describe('connection limits', () => {
  let server: SyncServer | undefined
  let honest: HonestPair | undefined
  afterEach(async () => {
    honest?.stop()
    honest = undefined
    await server?.close()
    server = undefined
  })

  it('PR-L6 a browser Origin outside allowedOrigins gets HTTP 403 on both endpoints; an allowed one syncs', async () => {
    server = await startServer({ allowedOrigins: ['https://notes.example'] })
    honest = new HonestPair(server.url, 'ws1/o') // non-browser clients send no Origin
    await honest.start()
    const evil = { origin: 'https://evil.example' }
    expect(await attempt(`${server.url}/_skein/v1`, evil)).toBe('HTTP 403')
    expect(await attempt(`${server.url}/ws1/o`, evil)).toBe('HTTP 403')
    // an origin differing only in port or scheme is another origin
    expect(await attempt(`${server.url}/_skein/v1`, { origin: 'http://notes.example' })).toBe(
      'HTTP 403',
    )
    const browser = newClient(server.url, { WebSocket: socketFrom('https://notes.example') })
    const doc = new Y.Doc()
    const h = browser.open('ws1/o', doc)
    await h.whenSynced
    doc.getText('t').insert(0, 'from the browser;')
    await waitFor(() => textOf(honest!.readerDoc) === 'from the browser;', 'browser write relayed')
    await honest.roundTrip()
    browser.close()
  })

  it('PR-L6 allowedOrigins is validated: an entry that is not a bare origin is refused with a clear error', () => {
    expect(() => new SyncServer({ allowedOrigins: ['https://notes.example/'] })).toThrow(
      /allowedOrigins.*https:\/\/notes\.example\/.*scheme:\/\/host\[:port\]/,
    )
    expect(() => new SyncServer({ allowedOrigins: ['notes.example'] })).toThrow(/allowedOrigins/)
  })

  it('PR-L5 a client that never answers pings is dropped with 4408; honest clients keep syncing', async () => {
    server = await startServer({ pingIntervalMs: 500 })
    honest = new HonestPair(server.url, 'ws1/ping')
    await honest.start()
    const silent = new RawSocket(`${server.url}/_skein/v1`, { autoPong: false })
    await silent.opened
    const pinged = new Promise<void>((r) => silent.ws.once('ping', () => r()))
    await pinged
    // keep the honest pair busy across several ping intervals while the silent one is cut off
    while (silent.closeCode === undefined) await honest.roundTrip()
    await silent.closed
    expect(server.metrics.closedConnections.get(CloseCode.IDLE_TIMEOUT)).toBe(1)
    for (let i = 0; i < 3; i++) await honest.roundTrip()
    expect(server.connectionCount).toBe(2)
  })

  it('PR-L3 connections beyond maxConnections get HTTP 503 (before auth); the others keep working; a freed slot is reused', async () => {
    server = await startServer({
      maxConnections: 3,
      auth: { mode: 'token', secret: 'limits-test-secret-0123456789abcdef' },
    })
    const { signToken } = await import('@skein/protocol')
    const token = await signToken('limits-test-secret-0123456789abcdef', {
      workspace: 'ws1',
      scope: 'write',
      exp: Math.floor(Date.now() / 1000) + 3600,
    })
    honest = new HonestPair(server.url, 'ws1/full', token)
    await honest.start()
    const third = new RawSocket(`${server.url}/_skein/v1`) // no token yet: still counts
    await third.opened
    expect(await attempt(`${server.url}/_skein/v1`)).toBe('HTTP 503')
    expect(await attempt(`${server.url}/ws1/full?token=${token}`)).toBe('HTTP 503')
    await honest.roundTrip()
    const health = await fetch(server.url.replace('ws:', 'http:') + '/healthz')
    expect(health.status).toBe(200) // plain HTTP is not a WebSocket slot
    third.close()
    await waitFor(() => server!.connectionCount === 2, 'slot freed')
    expect(await attempt(`${server.url}/_skein/v1?token=${token}`)).toBe('open')
    await honest.roundTrip()
  })
})
