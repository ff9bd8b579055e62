/**
 * One sync server for the benchmarks, in its own process so its CPU and RSS can
 * be measured apart from the clients. `SKEIN_BENCH_SERVER` = `skein` |
 * `y-websocket@2.1.0` | `hocuspocus@3`; `SKEIN_DATA` = data dir;
 * `SKEIN_SEED_DOCS` = number of ~2 KB documents to pre-store as `ws1/n<i>`.
 * `SKEIN_EVICT_MS` = Skein's idle-document eviction delay (default 30 s).
 * Talks to its parent over IPC: sends `{ port }`, answers `stats` with CPU, RSS,
 * heap and (Skein only) loaded documents; `gc` first runs full GCs (the child
 * is started with `--expose-gc`).
 */
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { LeveldbPersistence } from 'y-leveldb'
import { Server as Hocuspocus } from '@hocuspocus/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { SyncServer } from '@skein/server'

const kind = process.env.SKEIN_BENCH_SERVER ?? 'skein'
const dir = process.env.SKEIN_DATA ?? ''
const seedDocs = Number(process.env.SKEIN_SEED_DOCS ?? 0)
/** Documents the server holds in memory, where it can tell. */
let loadedDocs: () => number = () => NaN

/** The ~2 KB note `i` (deterministic). */
export function seedUpdate(i: number): Uint8Array {
  const d = new Y.Doc()
  const line = `Note ${i}: the quick brown fox jumps over the lazy dog. `
  d.getText('t').insert(0, line.repeat(Math.ceil(2048 / line.length)).slice(0, 2048))
  return Y.encodeStateAsUpdate(d)
}

async function start(): Promise<number> {
  if (kind === 'skein') {
    const store = new LevelDocStore(dir)
    for (let i = 0; i < seedDocs; i++) await store.append(`ws1/n${i}`, seedUpdate(i))
    const server = new SyncServer({
      store,
      maxBufferedBytes: 256 * 1024 * 1024,
      evictAfterMs: Number(process.env.SKEIN_EVICT_MS ?? 30_000),
      // SKEIN_BENCH_WRITE_INTERVAL_MS: try a write interval (PR-L7) other than the default
      ...(process.env.SKEIN_BENCH_WRITE_INTERVAL_MS
        ? { writeIntervalMs: Number(process.env.SKEIN_BENCH_WRITE_INTERVAL_MS) }
        : {}),
      // SKEIN_BENCH_STORE_INTERVAL_MS: try a store commit interval other than the default
      ...(process.env.SKEIN_BENCH_STORE_INTERVAL_MS
        ? { storeIntervalMs: Number(process.env.SKEIN_BENCH_STORE_INTERVAL_MS) }
        : {}),
    })
    loadedDocs = () => server.loadedDocs
    return server.listen()
  }
  if (kind === 'y-websocket@2.1.0') {
    if (seedDocs > 0) {
      const p = new LeveldbPersistence(dir)
      for (let i = 0; i < seedDocs; i++) await p.storeUpdate(`ws1/n${i}`, seedUpdate(i))
      await p.destroy()
    }
    process.env.YPERSISTENCE = dir
    const require = createRequire(import.meta.url)
    const { setupWSConnection } = require('y-websocket-ref/bin/utils') as {
      setupWSConnection: (ws: unknown, req: unknown) => void
    }
    const wss = new WebSocketServer({ noServer: true })
    const http = createServer((_q, r) => r.end('ok'))
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req)),
    )
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()))
    return (http.address() as { port: number }).port
  }
  // hocuspocus@3 has no bundled persistence: an in-memory store via its hooks
  const stored = new Map<string, Uint8Array>()
  for (let i = 0; i < seedDocs; i++) stored.set(`ws1/n${i}`, seedUpdate(i))
  const server = new Hocuspocus({
    port: 0,
    address: '127.0.0.1',
    quiet: true,
    async onLoadDocument({ documentName, document }) {
      const u = stored.get(documentName)
      if (u) Y.applyUpdate(document, u)
      return document
    },
    async onStoreDocument({ documentName, document }) {
      stored.set(documentName, Y.encodeStateAsUpdate(document))
    },
  })
  await server.listen()
  return server.address.port
}

const port = await start()
process.on('message', (m) => void answer(m))

async function answer(m: unknown): Promise<void> {
  if (m === 'exit') process.exit(0)
  if (m !== 'stats' && m !== 'gc') return
  if (m === 'gc') {
    // twice, a turn apart: V8 frees ArrayBuffer memory on a background thread
    // after a GC, and `external` counts it until that finished (measured
    // right after one GC, 20 MB of freed documents still showed)
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    await new Promise((r) => setTimeout(r, 50))
    gc?.()
  }
  const mem = process.memoryUsage()
  process.send!({
    cpu: process.cpuUsage(),
    rss: mem.rss,
    heap: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    docs: loadedDocs(),
  })
}
process.send!({ port })
