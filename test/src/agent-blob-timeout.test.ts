/**
 * Blob transfers of the agent's transport are bounded: a link that dies
 * mid-request (a half-open socket) fails the request as TRANSIENT instead of
 * holding the agent's pass — and its stop — for minutes (found by chaos: a
 * restart stuck behind a blob download on a dead link).
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { WebSocketConstructor } from '@skein/client'
import { createClientTransport } from '@skein/agent'

describe('client transport blobs over a dead link', () => {
  let server: Server | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  })

  it('a blob request the server never answers fails as TRANSIENT after the timeout, not never', async () => {
    // Accepts connections and never answers: a half-open link (no FIN, no RST).
    server = createServer((s) => void sockets.push(s))
    const port = await new Promise<number>((r) =>
      server!.listen(0, '127.0.0.1', () => r((server!.address() as { port: number }).port)),
    )
    const t = createClientTransport({
      server: `ws://127.0.0.1:${port}`,
      token: undefined,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      logger: undefined,
      maxBackoffMs: 1000,
      stallMs: 0,
      blobTimeoutMs: 300,
    })
    try {
      const hash = 'a'.repeat(64)
      await expect(t.getBlob('w', hash)).rejects.toMatchObject({ code: 'TRANSIENT' })
      await expect(t.putBlob('w', hash, new Uint8Array(10))).rejects.toMatchObject({
        code: 'TRANSIENT',
        message: expect.stringContaining('stalled'),
      })
    } finally {
      await t.close()
    }
  })
})
