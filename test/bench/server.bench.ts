/**
 * Sync-server benchmarks: Skein vs the y-websocket@2.1.0 reference server (with
 * y-leveldb persistence) and @hocuspocus/server@3, same machine, same run.
 * Servers run in child processes so their CPU and RSS are measured alone.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
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
import type { ServerKind } from '../src/helpers/server-bench-clients.js'

/** `SKEIN_BENCH_KINDS=skein,hocuspocus@3` limits the servers compared (default all). */
const KINDS: ServerKind[] = (['skein', ...PEERS] as ServerKind[]).filter(
  (k) => !process.env.SKEIN_BENCH_KINDS || process.env.SKEIN_BENCH_KINDS.split(',').includes(k),
)
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
    row.by.set(kind, values)
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

async function fanOut(ctx: BenchContext, kind: ServerKind, table: Table): Promise<void> {
  const clients = 50
  const seconds = ctx.full ? 20 : 8
  const server = await BenchServer.start(kind, await ctx.tmpDir())
  const docs = Array.from({ length: clients }, () => new Y.Doc())
  const conns = docs.map((d) => connectAll(kind, server.port, new Map([['ws1/fan', d]])))
  await Promise.all(conns.map((c) => c.synced))
  const latencies: number[] = []
  let received = 0
  docs.forEach((d, i) => {
    d.on('update', (_u: Uint8Array, origin: unknown) => {
      if (origin !== null) received++
    })
    if (i === 0) {
      d.getArray<[number, number]>('ops').observe((e) => {
        const now = performance.now()
        for (const delta of e.changes.delta)
          for (const op of (delta.insert as [number, number][] | undefined) ?? [])
            if (op[0] !== 0) latencies.push(now - op[1])
      })
    }
  })
  const s0 = await server.stats()
  const t0 = performance.now()
  const rng = createRng(7)
  const timers = docs.map((d, i) =>
    setTimeout(() => {
      const t = setInterval(() => d.getArray('ops').push([[i, performance.now()]]), 100)
      timers.push(t)
    }, rng.int(100)),
  )
  await sleep(seconds * 1000)
  timers.forEach((t) => clearInterval(t))
  await sleep(500)
  const wall = performance.now() - t0
  const s1 = await server.stats()
  conns.forEach((c) => c.close())
  await server.stop()
  latencies.sort((a, b) => a - b)
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
  table.add('latency p50', 'ms', kind, [q(0.5)])
  table.add('latency p99', 'ms', kind, [q(0.99)])
  table.add('updates delivered', 'updates/s', kind, [(received / wall) * 1000], false)
  table.add('server CPU', '%', kind, [((s1.cpuUs - s0.cpuUs) / 1000 / wall) * 100])
  table.add('server RSS', 'MB', kind, [s1.rss / 2 ** 20])
}

async function manyDocs(ctx: BenchContext, kind: ServerKind, table: Table): Promise<void> {
  const n = ctx.full ? 10_000 : 5_000
  const server = await BenchServer.start(kind, await ctx.tmpDir(), n)
  const s0 = await server.stats()
  const docs = new Map(Array.from({ length: n }, (_, i) => [`ws1/n${i}`, new Y.Doc()] as const))
  const t0 = performance.now()
  const conn = connectAll(kind, server.port, docs)
  await conn.synced
  // y-websocket@2.1.0 answers sync before its LevelDB load finishes (content follows
  // as an update), so the clock stops when every document's content has arrived.
  const all = [...docs.values()]
  await until(() => all.every((d) => d.getText('t').length === 2048), 120_000)
  const elapsed = performance.now() - t0
  const s1 = await server.stats()
  conn.close()
  await server.stop()
  table.add(`sync ${n} docs`, 'ms', kind, [elapsed])
  table.add('server RSS after sync', 'MB', kind, [s1.rss / 2 ** 20])
  table.add('server CPU for the sync', 'ms', kind, [(s1.cpuUs - s0.cpuUs) / 1000])
}

/**
 * Memory of a server holding many documents once their clients left: baseline
 * (after a full GC), while loaded (peak RSS; live heap after GC), and after the
 * documents were unloaded (after GC). Skein unloads after `evictAfterMs` (2 s
 * here); y-websocket when the last socket of a document closes; hocuspocus after
 * its store debounce — peers get a fixed 12 s.
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
  } else await sleep(12_000)
  const unloadMs = performance.now() - t0
  const after = await server.stats(true)
  await server.stop()
  const mb = (b: number) => b / 2 ** 20
  ctx.log(
    `${kind}: heap ${mb(base.heap).toFixed(1)} → ${mb(loaded.heap).toFixed(1)} → ${mb(after.heap).toFixed(1)} MB; ` +
      `rss ${mb(base.rss).toFixed(0)} → ${mb(peak.rss).toFixed(0)} → ${mb(after.rss).toFixed(0)} MB; docs left ${after.docs}`,
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
  cw.close()
  cr.close()
  await server.stop()
  table.add('trace total time', 'ms', kind, [elapsed])
  table.add('server CPU per update', 'µs', kind, [(s1.cpuUs - s0.cpuUs) / t.patches.length])
}

async function each(
  ctx: BenchContext,
  run: (kind: ServerKind, table: Table) => Promise<void>,
): Promise<Metric[]> {
  const table = new Table()
  for (const kind of KINDS) {
    ctx.log(kind)
    await run(kind, table)
  }
  return table.metrics()
}

export default defineScenarios(
  {
    name: 'server-fanout',
    description: '1 document, 50 clients each inserting 10×/s (20 s full, 8 s default)',
    run: async (ctx) => ({
      metrics: await each(ctx, (k, t) => fanOut(ctx, k, t)),
      notes: [
        'skein server: messageRate raised for benchmarks; hocuspocus@3 with in-memory persistence hooks',
      ],
    }),
  },
  {
    name: 'server-many-docs',
    description:
      '5,000 (full: 10,000) stored ~2 KB documents synced by a fresh client; skein over one socket, peers one socket per document',
    run: async (ctx) => ({ metrics: await each(ctx, (k, t) => manyDocs(ctx, k, t)) }),
  },
  {
    name: 'server-idle-memory',
    description:
      '10,000 stored ~2 KB documents loaded by one client, which then leaves: server heap and RSS before, loaded, after unloading (forced GC)',
    run: async (ctx) => ({
      metrics: await each(ctx, (k, t) => idleMemory(ctx, k, t)),
      notes: ['skein evictAfterMs 2 s (default 30 s); peers measured 12 s after the client left'],
    }),
  },
  {
    name: 'server-trace',
    description:
      'automerge-paper editing trace, one update per keystroke, streamed from one client to another',
    run: async (ctx) => {
      const notes: string[] = []
      const t = loadTrace(notes)
      return { metrics: await each(ctx, (k, tb) => trace(ctx, k, tb, t)), notes }
    },
  },
)
