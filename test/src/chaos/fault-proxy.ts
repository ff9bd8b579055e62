/**
 * A TCP proxy between one device and the server that injects network faults:
 * the device's `server` URL points here, so the test can take that device
 * offline, drop its connection mid-sync, hold a socket half-open, or cut it
 * right after the device sent data (before the server's ack comes back) —
 * with real sockets, no mocks.
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'

/** How the proxy treats traffic. */
export type ProxyMode =
  /** Forward both ways. */
  | 'up'
  /** Refuse new connections and destroy the open ones (device offline). */
  | 'down'
  /**
   * Open sockets go silent for good and new ones are accepted but never
   * answered (a half-open link: no FIN, no RST). Only the device noticing and
   * reconnecting after the mode is `up` again gets it through.
   */
  | 'blackhole'

interface Pair {
  client: Socket
  upstream: Socket
  /** Blackholed: forwards nothing, ever again. */
  dead: boolean
}

export class FaultProxy {
  private server: Server | undefined
  private readonly pairs = new Set<Pair>()
  private mode: ProxyMode = 'up'
  /** When set, the next client→server chunk is forwarded and then both sockets are destroyed. */
  private cutAfterClientData = false
  port = 0
  /** Connections accepted so far (a reconnect storm shows here). */
  accepted = 0

  constructor(private targetPort: number) {}

  /** Starts listening on 127.0.0.1 (a given port keeps device URLs stable across restarts). */
  async listen(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.server = server
    const addr = server.address()
    if (!addr || typeof addr === 'string') throw new Error('fault proxy: no TCP address')
    this.port = addr.port
    return this.port
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** Points the proxy at a (restarted) server. */
  retarget(port: number): void {
    this.targetPort = port
  }

  /** Sets the mode; `down` destroys every open connection at once. */
  setMode(mode: ProxyMode): void {
    this.mode = mode
    if (mode === 'down') this.dropAll()
    if (mode === 'blackhole') for (const p of this.pairs) p.dead = true
  }

  get currentMode(): ProxyMode {
    return this.mode
  }

  /** Destroys every open connection (a network drop); new ones are accepted per the mode. */
  dropAll(): void {
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.pairs.clear()
  }

  /** Cuts the link right after the device's next chunk reaches the server (update sent, ack lost). */
  cutAfterNextClientData(): void {
    this.cutAfterClientData = true
  }

  /** Connections currently open through the proxy. */
  get open(): number {
    return this.pairs.size
  }

  async close(): Promise<void> {
    this.dropAll()
    const s = this.server
    this.server = undefined
    if (s) await new Promise<void>((r) => s.close(() => r()))
  }

  private accept(client: Socket): void {
    this.accepted++
    if (this.mode === 'down') {
      client.destroy()
      return
    }
    const upstream = connect(this.targetPort, '127.0.0.1')
    const pair: Pair = { client, upstream, dead: this.mode === 'blackhole' }
    this.pairs.add(pair)
    const end = () => {
      if (!this.pairs.delete(pair)) return
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
    client.on('data', (chunk: Buffer) => {
      if (pair.dead) return
      upstream.write(chunk)
      if (this.cutAfterClientData) {
        this.cutAfterClientData = false
        // Let the chunk leave, then drop before any answer can return.
        setImmediate(() => {
          client.pause()
          upstream.pause()
          setTimeout(end, 5)
        })
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      if (pair.dead || client.isPaused()) return
      client.write(chunk)
    })
  }
}
