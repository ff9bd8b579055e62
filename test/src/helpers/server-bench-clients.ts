/**
 * Client side of the server benchmarks: one way to sync a Y.Doc with each
 * server under test, plus a child-process handle for the server itself.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import type * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider } from 'y-websocket'
import { SyncClient } from '@skein/client'
import type { WebSocketConstructor } from '@skein/client'

/** The servers compared. */
export type ServerKind = 'skein' | 'y-websocket@2.1.0' | 'hocuspocus@3'
export const PEERS: ServerKind[] = ['y-websocket@2.1.0', 'hocuspocus@3']

/** What a server child reports about itself. */
export interface ServerStats {
  cpuUs: number
  /** The part of `cpuUs` spent in the kernel (socket writes and reads, fsync). */
  systemUs: number
  rss: number
  heap: number
  /** V8 heap reserved (used or not) and memory outside it (Buffers, LevelDB, …). */
  heapTotal: number
  external: number
  /** Documents loaded (NaN where the server cannot tell). */
  docs: number
}

/** A server child process. */
export class BenchServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(
    kind: ServerKind,
    dataDir: string,
    seedDocs = 0,
    env: Record<string, string> = {},
  ): Promise<BenchServer> {
    const here = dirname(fileURLToPath(import.meta.url))
    const child = fork(join(here, 'server-bench-child.ts'), [], {
      // SKEIN_BENCH_SERVER_ARGS: extra node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
      execArgv: [
        '--expose-gc',
        ...(process.env.SKEIN_BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []),
        '--conditions=@skein/source',
        '--import',
        'tsx',
      ],
      env: {
        ...process.env,
        ...env,
        SKEIN_BENCH_SERVER: kind,
        SKEIN_DATA: dataDir,
        SKEIN_SEED_DOCS: String(seedDocs),
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port))
      child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)))
    })
    return new BenchServer(child, port)
  }

  /** CPU microseconds used so far, RSS and heap bytes, loaded documents (Skein only); `gc` collects first. */
  stats(gc = false): Promise<ServerStats> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => {
        const s = m as {
          cpu: { user: number; system: number }
          rss: number
          heap: number
          heapTotal: number
          external: number
          docs: number | null
        }
        resolve({
          cpuUs: s.cpu.user + s.cpu.system,
          systemUs: s.cpu.system,
          rss: s.rss,
          heap: s.heap,
          heapTotal: s.heapTotal,
          external: s.external,
          docs: s.docs ?? NaN,
        })
      })
      this.child.send(gc ? 'gc' : 'stats')
    })
  }

  /** Asks the child to exit (so `--cpu-prof` can write its profile); SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.send('exit')
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(t)
  }
}

/** One synced document (or a set of them on one socket). */
export interface BenchConn {
  synced: Promise<void>
  close(): void
  /** Local updates the server has not acknowledged as stored (Skein only: peers have no acks). */
  unacked?: () => number
}

const HP_SYNC = 0
const HP_AUTH = 2

/** A minimal Hocuspocus v3 client (one document per socket), speaking its framing by hand. */
class HocuspocusConn implements BenchConn {
  readonly synced: Promise<void>
  private readonly ws: WebSocket

  constructor(
    url: string,
    private readonly name: string,
    private readonly doc: Y.Doc,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false })
    let done!: () => void
    this.synced = new Promise((r) => (done = r))
    const msg = (type: number, write: (e: encoding.Encoder) => void) => {
      const e = encoding.createEncoder()
      encoding.writeVarString(e, name)
      encoding.writeVarUint(e, type)
      write(e)
      return encoding.toUint8Array(e)
    }
    // a refused connection (e.g. a full accept backlog) must not crash the benchmark
    this.ws.on('error', (err) =>
      process.stderr.write(`hocuspocus client ${name}: ${err.message}\n`),
    )
    this.ws.on('open', () => {
      this.ws.send(
        msg(HP_AUTH, (e) => (encoding.writeVarUint(e, 0), encoding.writeVarString(e, 'bench'))),
      )
      this.ws.send(msg(HP_SYNC, (e) => syncProtocol.writeSyncStep1(e, doc)))
    })
    this.ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data))
      decoding.readVarString(d)
      const type = decoding.readVarUint(d)
      if (type !== HP_SYNC && type !== 4) return
      const reply = encoding.createEncoder()
      encoding.writeVarString(reply, name)
      encoding.writeVarUint(reply, HP_SYNC)
      const before = encoding.length(reply)
      const sub = syncProtocol.readSyncMessage(d, reply, doc, this)
      if (encoding.length(reply) > before) this.ws.send(encoding.toUint8Array(reply))
      if (sub === syncProtocol.messageYjsSyncStep2) done()
    })
    doc.on('update', this.onUpdate)
    this.onUpdateMsg = (u) => msg(HP_SYNC, (e) => syncProtocol.writeUpdate(e, u))
  }

  private onUpdateMsg: (u: Uint8Array) => Uint8Array

  private readonly onUpdate = (u: Uint8Array, origin: unknown) => {
    if (origin !== this && this.ws.readyState === WebSocket.OPEN) this.ws.send(this.onUpdateMsg(u))
  }

  close(): void {
    this.doc.off('update', this.onUpdate)
    this.ws.terminate()
  }
}

/** Syncs `doc` as `name` with a peer server, one socket per document. */
export function connectPeer(kind: ServerKind, port: number, name: string, doc: Y.Doc): BenchConn {
  const url = `ws://127.0.0.1:${port}`
  if (kind === 'hocuspocus@3') return new HocuspocusConn(url, name, doc)
  const p = new WebsocketProvider(url, name, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  return {
    synced: new Promise((r) => (p.synced ? r() : p.once('sync', () => r()))),
    // The provider leaves the Awareness it made (and its 15 s check timer) alive.
    close: () => {
      p.destroy()
      p.awareness.destroy()
    },
  }
}

/** A SyncClient for the Skein server. */
export function skeinClient(port: number): SyncClient {
  return new SyncClient({
    url: `ws://127.0.0.1:${port}`,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  })
}

/** Like {@link connectAll}, but peers open their sockets `chunk` at a time (each chunk synced first). */
export async function connectInChunks(
  kind: ServerKind,
  port: number,
  docs: Map<string, Y.Doc>,
  chunk = 1000,
): Promise<BenchConn> {
  if (kind === 'skein') {
    const conn = connectAll(kind, port, docs)
    await conn.synced
    return conn
  }
  const entries = [...docs]
  const conns: BenchConn[] = []
  for (let i = 0; i < entries.length; i += chunk) {
    const part = entries.slice(i, i + chunk).map(([n, d]) => connectPeer(kind, port, n, d))
    conns.push(...part)
    await Promise.all(part.map((c) => c.synced))
  }
  return { synced: Promise.resolve(), close: () => conns.forEach((c) => c.close()) }
}

/** Syncs `docs` (name → doc) with any server: one SyncClient socket for Skein, one socket per doc for peers. */
export function connectAll(kind: ServerKind, port: number, docs: Map<string, Y.Doc>): BenchConn {
  if (kind === 'skein') {
    const client = skeinClient(port)
    const handles = [...docs].map(([name, doc]) => client.open(name, doc))
    return {
      synced: Promise.all(handles.map((h) => h.whenSynced)).then(() => undefined),
      close: () => client.close(),
      unacked: () => handles.reduce((n, h) => n + h.unsyncedChanges, 0),
    }
  }
  const conns = [...docs].map(([name, doc]) => connectPeer(kind, port, name, doc))
  return {
    synced: Promise.all(conns.map((c) => c.synced)).then(() => undefined),
    close: () => conns.forEach((c) => c.close()),
  }
}
