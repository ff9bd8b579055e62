/**
 * A share of the fan-out benchmark's clients in one process: wire-level clients
 * ({@link WireClient}), the same for every server. `SKEIN_BENCH_SERVER` = server
 * kind, `SKEIN_PORT`, `FANOUT_FIRST` = global index of the first client here,
 * `FANOUT_CLIENTS` = clients here, `FANOUT_TOTAL` = clients in all processes.
 *
 * An op is what a replica sends for `array.push([stamp])` on the shared array:
 * a real Yjs update (see {@link encodeAppend}) by the client's own Yjs client
 * id, whose left origin is the last item the client saw (its own last op or the
 * last one it received) — the updates of 50 full replicas appending at the end,
 * concurrent appends resolved by the server's Yjs, without the clients holding
 * a document. The stamp carries the sender and its wall-clock send time, so a
 * receiver reads the latency straight from the received bytes. (Full replicas
 * applying 24,500 updates/s made the clients, not the servers, the bottleneck.)
 *
 * IPC (advanced serialization): sends `{ ready }` once every client synced; on
 * `{ start, ops, intervalMs }` each client sends `ops` ops `intervalMs` (default
 * 100) apart (the first after a random delay below that) and receives everyone
 * else's; once every client here received all `ops × (FANOUT_TOTAL − 1)` ops
 * of the others, or 3 s after the last send, it sends {@link FanOutReport}.
 */
import { randomInt } from 'node:crypto'
import { createRng } from '@skein/core/testing'
import type { ServerKind } from './server-bench-clients.js'
import {
  WireClient,
  checkEncodeAppend,
  encodeAppend,
  firstItemId,
  readStamps,
  stamp,
} from './server-bench-wire.js'
import type { ItemId } from './server-bench-wire.js'

/** What a fan-out process reports. */
export interface FanOutReport {
  /** Send-to-receipt latency (ms) of every op a client here received from another client. */
  latencies: Float64Array
  /** Ops received from other clients (each counted once per receiving client). */
  received: number
  /** Ops sent by clients here. */
  sent: number
  /** Wall clock (ms) of the first send and of the last receipt here. */
  firstSend: number
  lastReceipt: number
  /** CPU this process used during the run (µs), to show the clients are not the bottleneck. */
  cpuUs: number
}

const kind = (process.env.SKEIN_BENCH_SERVER ?? 'skein') as ServerKind
const port = Number(process.env.SKEIN_PORT)
const first = Number(process.env.FANOUT_FIRST ?? 0)
const count = Number(process.env.FANOUT_CLIENTS ?? 10)
const total = Number(process.env.FANOUT_TOTAL ?? count)
const now = () => performance.timeOrigin + performance.now()
const DRAIN_MS = 3000

const latencies: number[] = []
let received = 0
let lastReceipt = 0
/** Off once the report is sent, so late deliveries cannot change it. */
let counting = true
let onReceived: () => void = () => undefined

checkEncodeAppend()
const clients = Array.from({ length: count }, (_, i) => {
  const index = first + i
  const state = {
    index,
    /** Yjs client id (random uint32, as Yjs picks them) and next clock. */
    me: { client: randomInt(1, 2 ** 32 - 1), clock: 0 },
    /** The last array item this client saw: where its next append goes. */
    last: null as ItemId | null,
    client: undefined as unknown as WireClient,
  }
  state.client = new WireClient({
    kind,
    port,
    doc: 'ws1/fan',
    now,
    onUpdate: (bytes, start, at) => {
      state.last = firstItemId(bytes, start) ?? state.last
      readStamps(bytes, start, (sender, sentAt) => {
        if (sender === index || !counting) return
        latencies.push(at - sentAt)
        received++
        lastReceipt = at
        onReceived()
      })
    },
  })
  return state
})
await Promise.all(clients.map((c) => c.client.synced))

async function run(ops: number, intervalMs: number): Promise<FanOutReport> {
  const expected = count * ops * (total - 1)
  const cpu0 = process.cpuUsage()
  const rng = createRng(first + 7)
  let firstSend = Infinity
  let sent = 0
  const allSent = Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          const op = () => {
            const t = now()
            firstSend = Math.min(firstSend, t)
            const id = { client: c.me.client, clock: c.me.clock++ }
            c.client.send(encodeAppend(id, c.last, stamp(c.index, t)))
            c.last = id
            sent++
          }
          setTimeout(() => {
            op()
            let n = 1
            if (n >= ops) return resolve()
            const timer = setInterval(() => {
              op()
              if (++n < ops) return
              clearInterval(timer)
              resolve()
            }, intervalMs)
          }, rng.int(intervalMs))
        }),
    ),
  )
  const allReceived = new Promise<void>((resolve) => {
    onReceived = () => {
      if (received >= expected) resolve()
    }
  })
  await allSent
  let deadline: ReturnType<typeof setTimeout> | undefined
  await Promise.race([allReceived, new Promise((r) => (deadline = setTimeout(r, DRAIN_MS)))])
  clearTimeout(deadline)
  counting = false
  onReceived = () => undefined
  const cpu = process.cpuUsage(cpu0)
  return {
    latencies: Float64Array.from(latencies),
    received,
    sent,
    firstSend,
    lastReceipt,
    cpuUs: cpu.user + cpu.system,
  }
}

process.on(
  'message',
  (m: { start?: boolean; ops?: number; intervalMs?: number; exit?: boolean }) => {
    if (m.exit) {
      clients.forEach((c) => c.client.close())
      process.exit(0)
    }
    if (m.start) void run(m.ops ?? 80, m.intervalMs ?? 100).then((r) => process.send!(r))
  },
)
process.send!({ ready: true })
