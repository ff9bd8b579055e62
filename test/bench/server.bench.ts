/**
 * Sync-server benchmarks: Skein vs the y-websocket@2.1.0 reference server (with
 * y-leveldb persistence) and @hocuspocus/server@3, same machine, same run.
 * Servers run in child processes so their CPU and RSS are measured alone.
 */
import { fork } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import * as Y from 'yjs'
import { createRng } from '@skein/core/testing'
import { defineScenarios } from './harness.js'
import type { BenchContext, Metric } from './harness.js'
import {
  BenchServer,
  PEERS,
  connectAll,
  connectInChunks,
} from '../src/helpers/server-bench-clients.js'
import type { ServerKind, ServerStats } from '../src/helpers/server-bench-clients.js'
import type { FanOutReport } from '../src/helpers/server-bench-fanout-child.js'

/** `SKEIN_BENCH_KINDS=skein,hocuspocus@3` limits the servers compared (default all). */
const KINDS: ServerKind[] = (['skein', ...PEERS] as ServerKind[]).filter(
  (k) => !process.env.SKEIN_BENCH_KINDS || process.env.SKEIN_BENCH_KINDS.split(',').includes(k),
)
const here = dirname(fileURLToPath(import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error('benchmark step timed out')
    await sleep(5)
  }
}

/** Collects one value per metric per server kind into harness metrics. */
class Table {
  private readonly rows = new Map<
    string,
    { unit: string; lower: boolean; by: Map<ServerKind, number[]> }
  >()
  add(name: string, unit: string, kind: ServerKind, values: number[], lower = true): void {
    const row = this.rows.get(name) ?? { unit, lower, by: new Map() }
    row.by.set(kind, [...(row.by.get(kind) ?? []), ...values])
    this.rows.set(name, row)
  }
  metrics(): Metric[] {
    return [...this.rows].map(([name, r]) => ({
      name,
      unit: r.unit,
      lowerIsBetter: r.lower,
      samples: r.by.get('skein') ?? [],
      peers: Object.fromEntries(PEERS.map((p) => [p, r.by.get(p) ?? []])),
    }))
  }
}

/**
 * Client processes of the fan-out scenario (`SKEIN_FANOUT_PROCS`, default 1).
 * Wire-level clients cost little (see server-bench-fanout-child.ts): one
 * process leaves the most CPU to the server on a 2-core machine.
 */
const FANOUT_PROCS = Number(process.env.SKEIN_FANOUT_PROCS ?? 1)
const FANOUT_CLIENTS = 50

/** Starts one process of fan-out clients; resolves once they all synced. */
async function fanOutProcess(kind: ServerKind, port: number, first: number, clients: number) {
  const child = fork(join(here, '..', 'src', 'helpers', 'server-bench-fanout-child.ts'), [], {
    execArgv: ['--conditions=@skein/source', '--import', 'tsx'],
    env: {
      ...process.env,
      SKEIN_BENCH_SERVER: kind,
      SKEIN_PORT: String(port),
      FANOUT_FIRST: String(first),
      FANOUT_CLIENTS: String(clients),
      FANOUT_TOTAL: String(FANOUT_CLIENTS),
    },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (c) => reject(new Error(`fan-out clients exited with ${c}`)))
  })
  return child
}

/**
 * 50 clients on one document, each sending a small real Yjs update 10×/s (80
 * ops each; 200 in full mode; `SKEIN_BENCH_FANOUT_RATE` sets another rate, e.g.
 * 6.7 — the rate of the issue's y-websocket reference figure). The same wire-level clients for every server;
 * they do not apply remote updates, only read the send time stamped in each op.
 * Latency: wall clock from send to receipt, every op at every other client.
 * Delivered/s and CPU: over the window from the first send to the last receipt;
 * "server CPU, 2nd half" from halfway through the sends to the last receipt.
 */
/** Ops per second each fan-out client sends. */
const FANOUT_RATE = Number(process.env.SKEIN_BENCH_FANOUT_RATE ?? 10)
/**
 * `SKEIN_BENCH_FANOUT_SECONDS`: how long the clients send (default 20 s full, 8 s
 * otherwise). A longer run makes "server CPU, 2nd half" a steady-state figure.
 */
const FANOUT_SECONDS = process.env.SKEIN_BENCH_FANOUT_SECONDS

async function fanOut(ctx: BenchContext, kind: ServerKind, table: Table): Promise<string> {
  const clients = FANOUT_CLIENTS
  if (!(FANOUT_RATE > 0 && FANOUT_RATE <= 1000))
    throw new Error(
      `SKEIN_BENCH_FANOUT_RATE must be ops per second per client, above 0 and at most 1000; got "${process.env.SKEIN_BENCH_FANOUT_RATE}"`,
    )
  const seconds = Number(FANOUT_SECONDS ?? (ctx.full ? 20 : 8))
  if (!(seconds >= 1 && seconds <= 3600))
    throw new Error(
      `SKEIN_BENCH_FANOUT_SECONDS must be a duration in seconds from 1 to 3600; got "${FANOUT_SECONDS}"`,
    )
  const ops = Math.round(seconds * FANOUT_RATE)
  const server = await BenchServer.start(kind, await ctx.tmpDir())
  const per = Math.ceil(clients / FANOUT_PROCS)
  const children = await Promise.all(
    Array.from({ length: FANOUT_PROCS }, (_, p) =>
      fanOutProcess(kind, server.port, p * per, Math.min(per, clients - p * per)),
    ),
  )
  const s0 = await server.stats()
  // Halfway through the sends: the second half is the server once warm (JIT and
  // heap sized; a cold V8 spends the first seconds compiling), for every server alike.
  const half = new Promise<{ at: number; cpuUs: number }>((resolve) =>
    setTimeout(
      () => {
        const at = performance.timeOrigin + performance.now()
        void server.stats().then((s) => resolve({ at, cpuUs: s.cpuUs }))
      },
      (ops / FANOUT_RATE) * 500,
    ),
  )
  const results = await Promise.all(
    children.map(
      (c) =>
        new Promise<FanOutReport>((resolve) => {
          c.once('message', (m) => resolve(m as FanOutReport))
          c.send({ start: true, ops, intervalMs: 1000 / FANOUT_RATE })
        }),
    ),
  )
  const s1 = await server.stats()
  const mid = await half
  await Promise.all(
    children.map((c) => {
      const exited = new Promise((r) => c.once('exit', r))
      c.send({ exit: true })
      return exited
    }),
  )
  await server.stop()
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0))
  let at = 0
  for (const r of results)
    latencies.set(r.latencies, (at += r.latencies.length) - r.latencies.length)
  latencies.sort()
  const received = results.reduce((n, r) => n + r.received, 0)
  const sent = results.reduce((n, r) => n + r.sent, 0)
  const expected = sent * (clients - 1)
  const window =
    Math.max(...results.map((r) => r.lastReceipt)) - Math.min(...results.map((r) => r.firstSend))
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
  table.add('latency p50', 'ms', kind, [q(0.5)])
  table.add('latency p99', 'ms', kind, [q(0.99)])
  table.add('updates delivered', 'updates/s', kind, [(received / window) * 1000], false)
  table.add('server CPU', '%', kind, [((s1.cpuUs - s0.cpuUs) / 1000 / window) * 100])
  const lastReceipt = Math.max(...results.map((r) => r.lastReceipt))
  table.add('server CPU, 2nd half', '%', kind, [
    ((s1.cpuUs - mid.cpuUs) / 1000 / (lastReceipt - mid.at)) * 100,
  ])
  table.add('server RSS', 'MB', kind, [s1.rss / 2 ** 20])
  const note =
    `${kind}: ${received} of ${expected} ops delivered (${((received / expected) * 100).toFixed(1)}%) ` +
    `in ${(window / 1000).toFixed(2)} s; latency max ${q(1).toFixed(1)} ms; ` +
    `server CPU ${(((s1.cpuUs - s0.cpuUs - (s1.systemUs - s0.systemUs)) / 1000 / window) * 100).toFixed(1)}% user + ` +
    `${(((s1.systemUs - s0.systemUs) / 1000 / window) * 100).toFixed(1)}% system; ` +
    `heap ${(s1.heap / 2 ** 20).toFixed(1)} of ${(s1.heapTotal / 2 ** 20).toFixed(1)} MB, external ${(s1.external / 2 ** 20).toFixed(1)} MB; ` +
    `clients ${((results.reduce((n, r) => n + r.cpuUs, 0) / 1000 / window) * 100).toFixed(1)}% CPU`
  ctx.log(note)
  return note
}

async function manyDocs(ctx: BenchContext, kind: ServerKind, table: Table): Promise<void> {
  const n = ctx.full ? 10_000 : 5_000
  const server = await BenchServer.start(kind, await ctx.tmpDir(), n)
  const s0 = await server.stats()
  const docs = new Map(Array.from({ length: n }, (_, i) => [`ws1/n${i}`, new Y.Doc()] as const))
  const t0 = performance.now()
  const conn = connectAll(kind, server.port, docs)
  let elapsed: number
  let s1: ServerStats
  try {
    // bounded: a peer client whose socket was reset while connecting (hocuspocus with
    // 10,000 at once, now and then) never syncs, and the round must fail, not hang
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      conn.synced,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${kind}: ${n} documents not synced in 180 s`)),
          180_000,
        )
      }),
    ]).finally(() => clearTimeout(timer))
    // y-websocket@2.1.0 answers sync before its LevelDB load finishes (content follows
    // as an update), so the clock stops when every document's content has arrived.
    const all = [...docs.values()]
    await until(() => all.every((d) => d.getText('t').length === 2048), 120_000)
    elapsed = performance.now() - t0
    s1 = await server.stats()
  } finally {
    conn.close()
    await server.stop()
  }
  table.add(`sync ${n} docs`, 'ms', kind, [elapsed])
  table.add('server RSS after sync', 'MB', kind, [s1.rss / 2 ** 20])
  table.add('server CPU for the sync', 'ms', kind, [(s1.cpuUs - s0.cpuUs) / 1000])
}

/**
 * Memory of a server holding many documents once their clients left: baseline
 * (after a full GC), while loaded (peak RSS; live heap after GC), and after the
 * documents were unloaded (after GC). Skein unloads after `evictAfterMs` (2 s
 * here); y-websocket when the last socket of a document closes; hocuspocus after
 * its store debounce. Every server is measured 12 s after its clients left
 * (Skein's unload time is reported too): V8 and the allocator give memory back
 * over seconds, so measuring one server sooner than the others would not compare.
 */
async function idleMemory(ctx: BenchContext, kind: ServerKind, table: Table): Promise<void> {
  const n = 10_000
  const server = await BenchServer.start(kind, await ctx.tmpDir(), n, { SKEIN_EVICT_MS: '2000' })
  const base = await server.stats(true)
  const docs = new Map(Array.from({ length: n }, (_, i) => [`ws1/n${i}`, new Y.Doc()] as const))
  // peers: 1,000 sockets at a time (10,000 at once overflow hocuspocus's accept backlog)
  const conn = await connectInChunks(kind, server.port, docs)
  const all = [...docs.values()]
  await until(() => all.every((d) => d.getText('t').length === 2048), 120_000)
  const peak = await server.stats()
  const loaded = await server.stats(true)
  conn.close()
  const t0 = performance.now()
  if (kind === 'skein') {
    let s = loaded
    while (s.docs > 0) {
      await sleep(100)
      s = await server.stats()
    }
  }
  const unloadMs = performance.now() - t0
  await sleep(Math.max(0, 12_000 - unloadMs))
  const after = await server.stats(true)
  await server.stop()
  const mb = (b: number) => b / 2 ** 20
  ctx.log(
    `${kind}: heap ${mb(base.heap).toFixed(1)} → ${mb(loaded.heap).toFixed(1)} → ${mb(after.heap).toFixed(1)} MB; ` +
      `rss ${mb(base.rss).toFixed(0)} → ${mb(peak.rss).toFixed(0)} → ${mb(after.rss).toFixed(0)} MB ` +
      `(after: V8 heap reserved ${mb(after.heapTotal).toFixed(0)} MB, external ${mb(base.external).toFixed(0)} → ${mb(loaded.external).toFixed(0)} → ${mb(after.external).toFixed(0)} MB); docs left ${after.docs}`,
  )
  table.add('heap baseline (GC)', 'MB', kind, [mb(base.heap)])
  table.add(`heap with ${n} docs loaded (GC)`, 'MB', kind, [mb(loaded.heap)])
  table.add('heap after unload (GC)', 'MB', kind, [mb(after.heap)])
  table.add('heap after unload − baseline', 'MB', kind, [mb(after.heap - base.heap)])
  table.add('RSS baseline', 'MB', kind, [mb(base.rss)])
  table.add('RSS peak (loaded)', 'MB', kind, [mb(peak.rss)])
  table.add('RSS after unload (GC)', 'MB', kind, [mb(after.rss)])
  if (kind === 'skein') table.add('time to unload every doc', 'ms', kind, [unloadMs])
}

type Patch = [number, number, string]
function loadTrace(notes: string[]): { patches: Patch[]; end: string } {
  const dir =
    process.env.SKEIN_TRACES ?? join(process.cwd(), '..', 'shared', 'data', 'editing-traces')
  const file = join(dir, 'automerge-paper.json.gz')
  if (existsSync(file)) {
    const json = JSON.parse(gunzipSync(readFileSync(file)).toString()) as {
      txns: { patches: Patch[] }[]
      endContent: string
    }
    notes.push(`real trace: ${file}, ${json.txns.length} transactions, one update per keystroke`)
    const limit = Number(process.env.SKEIN_TRACE_LIMIT ?? Infinity)
    if (limit < json.txns.length) {
      // a prefix of the trace (for profiling): the expected end text is replayed locally
      notes.push(`trace cut to its first ${limit} transactions (SKEIN_TRACE_LIMIT)`)
      const patches = json.txns.slice(0, limit).flatMap((t) => t.patches)
      return { patches, end: replay(patches) }
    }
    return { patches: json.txns.flatMap((t) => t.patches), end: json.endContent }
  }
  notes.push('real trace absent: seeded synthetic trace of 100,000 keystrokes (set SKEIN_TRACES)')
  const rng = createRng(42)
  const patches: Patch[] = []
  let len = 0
  for (let i = 0; i < 100_000; i++) {
    if (len > 0 && rng.chance(0.15)) patches.push([rng.int(len), 1, ''])
    else patches.push([rng.int(len + 1), 0, String.fromCharCode(97 + rng.int(26))])
    len += patches[i]![2].length - patches[i]![1]
  }
  return { patches, end: replay(patches) }
}

/** The text after applying `patches` to an empty document. */
function replay(patches: Patch[]): string {
  const d = new Y.Doc()
  for (const [p, del, ins] of patches) {
    if (del) d.getText('t').delete(p, del)
    if (ins) d.getText('t').insert(p, ins)
  }
  return d.getText('t').toString()
}

async function trace(
  ctx: BenchContext,
  kind: ServerKind,
  table: Table,
  t: { patches: Patch[]; end: string },
): Promise<void> {
  const server = await BenchServer.start(kind, await ctx.tmpDir())
  const writer = new Y.Doc()
  const reader = new Y.Doc()
  const cw = connectAll(kind, server.port, new Map([['ws1/trace', writer]]))
  const cr = connectAll(kind, server.port, new Map([['ws1/trace', reader]]))
  await Promise.all([cw.synced, cr.synced])
  const s0 = await server.stats()
  const t0 = performance.now()
  const text = writer.getText('t')
  for (const [pos, del, ins] of t.patches) {
    writer.transact(() => {
      if (del) text.delete(pos, del)
      if (ins) text.insert(pos, ins)
    })
  }
  const rt = reader.getText('t')
  await until(() => rt.length === t.end.length && rt.toString() === t.end, 600_000)
  const elapsed = performance.now() - t0
  const s1 = await server.stats()
  // Delivery is not the end of the server's work: Skein acks after a durable
  // append; y-websocket's y-leveldb writes trail behind in a promise chain.
  // Count CPU until every write is acked (Skein) and the server went quiet.
  if (cw.unacked) await until(() => cw.unacked!() === 0, 600_000)
  const durable = performance.now() - t0
  const s2 = await quiet(server)
  cw.close()
  cr.close()
  await server.stop()
  const n = t.patches.length
  table.add('trace total time (delivered)', 'ms', kind, [elapsed])
  if (kind === 'skein') table.add('trace time until every write acked', 'ms', kind, [durable])
  table.add('server CPU per update (to delivery)', 'µs', kind, [(s1.cpuUs - s0.cpuUs) / n])
  table.add('server CPU per update (until quiet)', 'µs', kind, [(s2.cpuUs - s0.cpuUs) / n])
}

/** Waits until the server used < 2% CPU over half a second (deferred work done); returns its stats then. */
async function quiet(server: BenchServer): Promise<ServerStats> {
  let prev = await server.stats()
  // bounded: a server under a CPU profiler (SKEIN_BENCH_SERVER_ARGS) never idles below 2%
  for (let i = 0; i < 120; i++) {
    await sleep(500)
    const s = await server.stats()
    if (s.cpuUs - prev.cpuUs < 10_000) return s
    prev = s
  }
  throw new Error('the server did not go quiet within 60 s (under a CPU profiler it never does)')
}

/**
 * `SKEIN_BENCH_ROUNDS=n` runs every server n times, interleaved (skein, peers,
 * skein, …), so a load change on a shared machine hits all of them alike; the
 * table reports medians.
 */
const ROUNDS = Number(process.env.SKEIN_BENCH_ROUNDS ?? 1)

/** Peer rounds that failed since the last {@link withLoad} noted them. */
const peerFailures: string[] = []

async function each(
  ctx: BenchContext,
  run: (kind: ServerKind, table: Table) => Promise<void>,
): Promise<Metric[]> {
  const table = new Table()
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      ctx.log(`${kind}${ROUNDS > 1 ? ` (round ${round + 1}/${ROUNDS})` : ''}`)
      // The clients of every server start from a collected heap: the garbage of the
      // round before (10,000 documents, sockets) would otherwise be collected during
      // this one and bill its GC to whichever server comes next (`pnpm bench` runs
      // with --expose-gc).
      ;(globalThis as { gc?: () => void }).gc?.()
      await sleep(200)
      try {
        await run(kind, table)
      } catch (err) {
        // a peer's flake costs that peer one round (noted), not the scenario; ours fails it
        if (kind === 'skein') throw err
        const what = `${kind} round ${round + 1} failed (${String(err)}); its figures omit that round`
        ctx.log(what)
        peerFailures.push(what)
      }
    }
  }
  return table.metrics()
}

/** Runs a scenario body and notes the 1-minute load average before and after (the machine is shared). */
async function withLoad(
  notes: string[],
  body: () => Promise<Metric[]>,
): Promise<{ metrics: Metric[]; notes: string[] }> {
  const before = loadavg()[0]!.toFixed(2)
  const metrics = await body()
  notes.push(...peerFailures.splice(0))
  notes.push(
    `load average (1 min) ${before} before, ${loadavg()[0]!.toFixed(2)} after; ${cpus().length} CPUs`,
  )
  if (ROUNDS > 1) notes.push(`${ROUNDS} interleaved rounds per server; medians`)
  return { metrics, notes }
}

export default defineScenarios(
  {
    name: 'server-fanout',
    description: `1 document, 50 clients each inserting ${FANOUT_RATE}×/s (${FANOUT_SECONDS ? `${FANOUT_SECONDS} s` : '20 s full, 8 s default'})`,
    run: (ctx) => {
      const notes = [
        `wire-level clients (raw ws, each server's framing; receivers read the stamped send time, never apply updates) in ${FANOUT_PROCS} process(es); every server with default options; hocuspocus@3 with in-memory persistence hooks`,
      ]
      return withLoad(notes, () =>
        each(ctx, async (k, t) => void notes.push(await fanOut(ctx, k, t))),
      )
    },
  },
  {
    name: 'server-many-docs',
    description:
      '5,000 (full: 10,000) stored ~2 KB documents synced by a fresh client; skein over one socket, peers one socket per document',
    run: (ctx) => withLoad([], () => each(ctx, (k, t) => manyDocs(ctx, k, t))),
  },
  {
    name: 'server-idle-memory',
    description:
      '10,000 stored ~2 KB documents loaded by one client, which then leaves: server heap and RSS before, loaded, after unloading (forced GC)',
    run: (ctx) =>
      withLoad(
        ['skein evictAfterMs 2 s (default 30 s); every server measured 12 s after the client left'],
        () => each(ctx, (k, t) => idleMemory(ctx, k, t)),
      ),
  },
  {
    name: 'server-trace',
    description:
      'automerge-paper editing trace, one update per keystroke, streamed from one client to another',
    run: (ctx) => {
      const notes: string[] = []
      const t = loadTrace(notes)
      return withLoad(notes, () => each(ctx, (k, tb) => trace(ctx, k, tb, t)))
    },
  },
)
