/**
 * A share of the fan-out benchmark's clients in their own process, so 50
 * clients applying each other's updates are not bound by one event loop.
 * `SKEIN_BENCH_SERVER` = server kind, `SKEIN_PORT`, `FANOUT_FIRST` = global
 * index of the first client here, `FANOUT_CLIENTS` = clients here.
 * IPC: sends `{ ready }` once every client synced; on `{ start, seconds }` each
 * client appends `[index, sentAt]` to the shared array every 100 ms (first
 * after a random delay below 100 ms); then sends `{ latencies, received }`:
 * the first client's delivery latencies of other clients' ops (wall clock, ms,
 * comparable across processes) and the remote updates all clients applied.
 */
import * as Y from 'yjs'
import { createRng } from '@skein/core/testing'
import { connectAll } from './server-bench-clients.js'
import type { ServerKind } from './server-bench-clients.js'

const kind = (process.env.SKEIN_BENCH_SERVER ?? 'skein') as ServerKind
const port = Number(process.env.SKEIN_PORT)
const first = Number(process.env.FANOUT_FIRST ?? 0)
const count = Number(process.env.FANOUT_CLIENTS ?? 10)
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const docs = Array.from({ length: count }, () => new Y.Doc())
const conns = docs.map((d) => connectAll(kind, port, new Map([['ws1/fan', d]])))
await Promise.all(conns.map((c) => c.synced))

const latencies: number[] = []
let received = 0
docs.forEach((d, i) => {
  d.on('update', (_u: Uint8Array, origin: unknown) => {
    if (origin !== null) received++
  })
  if (i === 0) {
    d.getArray<[number, number]>('ops').observe((e) => {
      const t = now()
      for (const delta of e.changes.delta)
        for (const op of (delta.insert as [number, number][] | undefined) ?? [])
          if (op[0] !== first) latencies.push(t - op[1])
    })
  }
})

process.on('message', (m: { start?: boolean; seconds?: number; exit?: boolean }) => {
  if (m.exit) {
    conns.forEach((c) => c.close())
    process.exit(0)
  }
  if (!m.start) return
  void (async () => {
    const rng = createRng(first + 7)
    const timers: ReturnType<typeof setInterval>[] = []
    docs.forEach((d, i) =>
      setTimeout(() => {
        timers.push(setInterval(() => d.getArray('ops').push([[first + i, now()]]), 100))
      }, rng.int(100)),
    )
    await sleep((m.seconds ?? 8) * 1000)
    timers.forEach((t) => clearInterval(t))
    await sleep(500)
    process.send!({ latencies, received })
  })()
})
process.send!({ ready: true })
