/**
 * Device-agent benchmarks (issue 5): initial scan + hash throughput, watcher
 * ready time and memory on 100,000 files (native per-folder watches vs
 * chokidar tuned vs chokidar defaults, each alone in a child process), and
 * end-to-end sync between two agents through a real SyncServer.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { Agent, createIgnoreMatcher, scanFolder } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'
import { SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { readFileSync, existsSync } from 'node:fs'
import { defineScenarios } from './harness.js'

const ROOT = join(import.meta.dirname, '..', '..')
const PROBE = join(import.meta.dirname, '..', 'src', 'helpers', 'agent-watch-probe.ts')

/** `n` small notes spread over `depth` levels of folders, `perDir` per folder. */
function makeTree(root: string, n: number, size: number, depth = 4, perDir = 100): void {
  const body = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(size / 27)).slice(0, size - 1) + '\n'
  for (let i = 0; i < n; i++) {
    const d = Math.floor(i / perDir)
    const parts: string[] = []
    for (let k = depth - 1; k >= 0; k--) parts.push(`d${Math.floor(d / 10 ** k) % 10}`)
    const dir = join(root, ...parts)
    if (i % perDir === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `n${i}.md`), `# ${i}\n${body}`)
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('benchmark step timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function probe(root: string, kind: string): { readyMs: number; rssMB: number } {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--conditions=@skein/source', '--import', 'tsx', PROBE, root, kind],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  )
  return JSON.parse(out.trim().split('\n').pop() as string) as { readyMs: number; rssMB: number }
}

function agentFor(root: string, url: string, device: string, bodyIdleMs = 60_000): Agent {
  return new Agent({
    root,
    workspace: 'bench',
    device,
    server: url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    rescanIntervalMs: 0,
    debounceMs: 20,
    bodyIdleMs,
  })
}

export default defineScenarios(
  {
    name: 'agent: initial scan + hash',
    description:
      'scanFolder over small notes (sync reads, no promise per file); goal ≥ 40,000 files/s',
    async run(ctx) {
      const n = ctx.full ? 100_000 : 50_000
      const root = await ctx.tmpDir()
      ctx.log(`creating ${n} files`)
      makeTree(root, n, 200)
      const ignore = createIgnoreMatcher()
      const samples: number[] = []
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now()
        const res = await scanFolder(root, { ignore })
        const s = (performance.now() - t0) / 1000
        if (res.files.size !== n) throw new Error(`scanned ${res.files.size} of ${n} files`)
        samples.push(n / s)
      }
      return {
        metrics: [{ name: 'scan+hash', unit: 'files/s', samples, lowerIsBetter: false }],
        notes: [`${n} files of ~200 B in folders of 100, page cache warm (files just written)`],
      }
    },
  },
  {
    name: 'agent: watcher on 100,000 files',
    description:
      'time until ready and RSS growth; native per-folder fs.watch vs chokidar 5 (tuned) vs chokidar 5 defaults',
    async run(ctx) {
      const root = await ctx.tmpDir()
      ctx.log('creating 100,000 files')
      makeTree(root, 100_000, 50)
      const kinds = ['native', 'chokidar', 'chokidar-defaults'] as const
      const res: Record<string, { readyMs: number; rssMB: number }[]> = {}
      for (const k of kinds) {
        res[k] = []
        for (let r = 0; r < (k === 'native' ? 3 : 1); r++) {
          ctx.log(`probing ${k}`)
          res[k].push(probe(root, k))
        }
      }
      const pick = (k: string, f: 'readyMs' | 'rssMB') => (res[k] ?? []).map((x) => x[f])
      return {
        metrics: [
          {
            name: 'ready',
            unit: 'ms',
            samples: pick('native', 'readyMs'),
            peers: {
              'chokidar-tuned': pick('chokidar', 'readyMs'),
              'chokidar-defaults': pick('chokidar-defaults', 'readyMs'),
            },
          },
          {
            name: 'rss growth',
            unit: 'MB',
            samples: pick('native', 'rssMB'),
            peers: {
              'chokidar-tuned': pick('chokidar', 'rssMB'),
              'chokidar-defaults': pick('chokidar-defaults', 'rssMB'),
            },
          },
        ],
        notes: [
          '100,000 files in 1,000 folders (depth 4); goal ≤ 2 s and ≤ 150 MB',
          'chokidar tuned = followSymlinks:false, ignoreInitial, ignore function, no atomic/awaitWriteFinish/alwaysStat; it still holds one fs.watch per file',
        ],
      }
    },
  },
  {
    name: 'agent: first sync of a workspace',
    description:
      'notes (~2 KB, depth 4) on A; time until B (empty) holds the same files; process RSS',
    async run(ctx) {
      const n = ctx.full ? 10_000 : 2_000
      const base = await ctx.tmpDir()
      const a = join(base, 'a')
      const b = join(base, 'b')
      makeTree(a, n, 2048, 4, 50)
      mkdirSync(b)
      const server = new SyncServer({})
      const url = `ws://127.0.0.1:${await server.listen()}`
      const t0 = performance.now()
      const agentA = agentFor(a, url, 'a')
      await agentA.start()
      const tA = performance.now() - t0
      const agentB = agentFor(b, url, 'b')
      const t1 = performance.now()
      await agentB.start()
      await until(() => agentB.knownFiles().length >= agentA.knownFiles().length, 600_000)
      const tB = performance.now() - t1
      const rss = process.memoryUsage().rss / 1e6
      await agentA.stop()
      await agentB.stop()
      await server.close()
      return {
        metrics: [
          { name: 'A indexes + uploads', unit: 'ms', samples: [tA] },
          { name: 'B identical', unit: 'ms', samples: [tB] },
          { name: 'RSS (server + 2 agents, one process)', unit: 'MB', samples: [rss] },
        ],
        notes: [`${n} notes; goal figure is for 10,000 (SKEIN_BENCH_FULL=1)`],
      }
    },
  },
  {
    name: 'agent: edit propagation',
    description: '200 single-line edits on A’s disk; time until each appears in B’s file',
    async run(ctx) {
      const base = await ctx.tmpDir()
      const a = join(base, 'a')
      const b = join(base, 'b')
      mkdirSync(a)
      mkdirSync(b)
      writeFileSync(join(a, 'live.md'), 'start\n')
      const server = new SyncServer({})
      const url = `ws://127.0.0.1:${await server.listen()}`
      const agentA = agentFor(a, url, 'a')
      const agentB = agentFor(b, url, 'b')
      await agentA.start()
      await agentB.start()
      const read = () =>
        existsSync(join(b, 'live.md')) ? readFileSync(join(b, 'live.md'), 'utf8') : ''
      await until(() => read() === 'start\n', 30_000)
      const samples: number[] = []
      let text = 'start\n'
      for (let i = 0; i < 200; i++) {
        text += `line ${i}\n`
        const t0 = performance.now()
        writeFileSync(join(a, 'live.md'), text)
        await until(() => read() === text, 30_000)
        samples.push(performance.now() - t0)
      }
      await agentA.stop()
      await agentB.stop()
      await server.close()
      return {
        metrics: [{ name: 'disk A → disk B', unit: 'ms', samples }],
        notes: ['includes the watcher debounce (20 ms) on A'],
      }
    },
  },
  {
    name: 'agent: reconnect after offline edits',
    description:
      'synced workspace, server down, 10 files changed on each side, server back: time and bytes until both folders agree',
    async run(ctx) {
      const n = ctx.full ? 10_000 : 2_000
      const base = await ctx.tmpDir()
      const a = join(base, 'a')
      const b = join(base, 'b')
      makeTree(a, n, 2048, 4, 50)
      mkdirSync(b)
      const store = () => new LevelDocStore(join(base, 'server-db'))
      let server = new SyncServer({ store: store() })
      const port = await server.listen()
      const url = `ws://127.0.0.1:${port}`
      const agentA = agentFor(a, url, 'a', 1000)
      const agentB = agentFor(b, url, 'b', 1000)
      await agentA.start()
      await agentB.start()
      await until(() => agentB.knownFiles().length >= agentA.knownFiles().length, 600_000)
      await agentA.whenIdle()
      await agentB.whenIdle()
      // The devices were idle a while before going offline: their bodies are closed.
      await until(
        () => agentA.status().openBodies === 0 && agentB.status().openBodies === 0,
        120_000,
      )
      await server.close()
      await until(
        () => agentA.status().connection === 'offline' && agentB.status().connection === 'offline',
        30_000,
      )
      const changed: string[] = []
      for (let i = 0; i < 10; i++) {
        const pa = join('d0', 'd0', 'd0', `d${i % 10}`, `n${i * 50}.md`)
        const pb = join('d0', 'd0', 'd0', `d${i % 10}`, `n${i * 50 + 1}.md`)
        writeFileSync(join(a, pa), `changed on A ${i}\n`)
        writeFileSync(join(b, pb), `changed on B ${i}\n`)
        changed.push(pa, pb)
      }
      await until(
        () => agentA.status().pendingFiles === 10 && agentB.status().pendingFiles === 10,
        30_000,
      )
      const same = () =>
        changed.every(
          (p) =>
            existsSync(join(a, p)) &&
            existsSync(join(b, p)) &&
            readFileSync(join(a, p), 'utf8') === readFileSync(join(b, p), 'utf8'),
        )
      server = new SyncServer({ port, store: store() })
      const t0 = performance.now()
      await server.listen()
      await until(same, 300_000)
      const ms = performance.now() - t0
      const bytes = server.metrics.bytesIn + server.metrics.bytesOut
      await agentA.stop()
      await agentB.stop()
      await server.close()
      return {
        metrics: [
          { name: 'until both agree', unit: 'ms', samples: [ms] },
          { name: 'bytes through the server', unit: 'KB', samples: [bytes / 1024] },
        ],
        notes: [
          `${n} notes, 10 changed on each side; must scale with the changes, not the notes`,
          'bodyIdleMs 1 s; the outage starts once both agents closed every idle body',
        ],
      }
    },
  },
)
