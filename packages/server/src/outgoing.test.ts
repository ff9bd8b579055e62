import { describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { wsBinaryFrame } from './outgoing.js'

describe('wsBinaryFrame', () => {
  it('PR-Y1 frames that a ws client reads back intact, for every length encoding', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((r) => wss.once('listening', r))
    const sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000]
    wss.on('connection', (ws) => {
      const socket = (ws as unknown as { _socket: { write(b: Buffer): void } })._socket
      for (const n of sizes) socket.write(wsBinaryFrame(new Uint8Array(n).map((_, i) => i * 7)))
    })
    const port = (wss.address() as { port: number }).port
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    const got: Buffer[] = []
    await new Promise<void>((resolve, reject) => {
      client.on('message', (d: Buffer, isBinary) => {
        if (!isBinary) reject(new Error('not binary'))
        got.push(d)
        if (got.length === sizes.length) resolve()
      })
      client.on('error', reject)
    })
    expect(got.map((d) => d.length)).toEqual(sizes)
    for (const d of got) expect(d.every((b, i) => b === ((i * 7) & 255))).toBe(true)
    client.terminate()
    await new Promise((r) => wss.close(r))
  })
})
