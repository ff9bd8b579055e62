/**
 * A SyncServer in its own process for the SIGKILL/SIGTERM and memory tests:
 * `SKEIN_DATA=<dir> SKEIN_PORT=<port|0> node --conditions=@skein/source --import tsx server-child.ts`.
 * Prints `PORT <n>` once listening. With an IPC channel it answers `stats` with
 * `{ docs, heap, rss }` after a full GC (start it with `--expose-gc`).
 */
import { LevelDocStore } from '@skein/store-leveldb'
import { SyncServer } from '@skein/server'

const dir = process.env.SKEIN_DATA
if (!dir) throw new Error('SKEIN_DATA must name the data directory')
const server = new SyncServer({
  port: Number(process.env.SKEIN_PORT ?? 0),
  store: new LevelDocStore(dir),
  evictAfterMs: Number(process.env.SKEIN_EVICT_MS ?? 30_000),
})
await server.listen()
server.closeOnSignals()
process.on('message', (m) => {
  if (m !== 'stats' || !process.send) return
  ;(globalThis as { gc?: () => void }).gc?.()
  const mem = process.memoryUsage()
  process.send({ docs: server.loadedDocs, heap: mem.heapUsed, rss: mem.rss })
})
process.stdout.write(`PORT ${server.port}\n`)
