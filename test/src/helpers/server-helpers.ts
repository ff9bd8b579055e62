/** Shared helpers for the sync-server integration tests. */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { SyncClient } from '@skein/client'
import type { SyncClientOptions, WebSocketConstructor } from '@skein/client'
import { SyncServer } from '@skein/server'
import type { SyncServerOptions } from '@skein/server'
import { decodeFrame, encodeFrame } from '@skein/protocol'
import type { Frame } from '@skein/protocol'

/** Starts a server on 127.0.0.1:0. */
export async function startServer(options: Partial<SyncServerOptions> = {}): Promise<SyncServer> {
  const server = new SyncServer(options)
  await server.listen()
  return server
}

/** A SyncClient on the `ws` package. */
export function newClient(url: string, options: Partial<SyncClientOptions> = {}): SyncClient {
  return new SyncClient({
    url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
    ...options,
  })
}

/**
 * Polls `cond` every 10 ms until it holds; throws with `what` after `timeoutMs`.
 * Pass `what` as a function to describe the state at the time of the failure.
 */
export async function waitFor(
  cond: () => boolean,
  what: string | (() => string),
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A raw WebSocket for speaking frames by hand; records what it receives and how it closed. */
export class RawSocket {
  readonly ws: WebSocket
  readonly frames: Uint8Array[] = []
  closeCode: number | undefined
  readonly opened: Promise<void>
  readonly closed: Promise<number>

  /** `options` go to `ws` (e.g. `origin`, or `autoPong: false` for a client that ignores pings). */
  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
      this.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      )
    })
    this.opened.catch(() => undefined)
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code) => {
        this.closeCode = code
        resolve(code)
        this.wake()
      }),
    )
    this.ws.on('message', (d) => {
      this.frames.push(new Uint8Array(d as Buffer))
      this.wake()
    })
    this.ws.on('error', () => undefined)
  }

  private waiters: { cond: () => boolean; resolve: () => void }[] = []

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.cond()) return true
      w.resolve()
      return false
    })
  }

  /** Resolves once `cond` holds, re-checked on every frame and on close (no polling). */
  until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
      this.waiters.push({ cond, resolve: () => (clearTimeout(t), resolve()) })
    })
  }

  send(data: Uint8Array | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data)
  }

  sendFrame(frame: Frame): void {
    this.send(encodeFrame(frame))
  }

  decoded(): Frame[] {
    return this.frames.map((f) => decodeFrame(f))
  }

  close(): void {
    this.ws.terminate()
  }
}

/** Text of `Y.Text('t')` in a document. */
export const textOf = (doc: Y.Doc) => doc.getText('t').toString()

/** Text of a server's loaded document. */
export function serverText(server: SyncServer, name: string): string | undefined {
  const state = server.inspect(name)
  if (!state) return undefined
  const d = new Y.Doc()
  Y.applyUpdate(d, state)
  return textOf(d)
}
