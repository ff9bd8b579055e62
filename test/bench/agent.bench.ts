/**
 * Device-agent benchmarks (issue 5): initial scan + hash throughput, watcher
 * ready time and memory on 100,000 files (native per-folder watches vs
 * chokidar tuned vs chokidar defaults, each alone in a child process), and
 * end-to-end sync between two agents through a real SyncServer.
 */
import { execFileSync, fork, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
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
const SERVER_CHILD = join(import.meta.dirname, '..', 'src', 'helpers', 'server-child.ts')
const AGENT_CHILD = join(import.meta.dirname, '..', 'src', 'helpers', 'agent-bench-child.ts')

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

/** The SyncServer (LevelDB, default options) in its own process (server-child.ts). */
async function serverProcess(
  dataDir: string,
  execArgv: string[],
): Promise<{ child: ChildProcess; port: number; exited: Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@skein/source', '--import', 'tsx', ...execArgv, SERVER_CHILD],
    {
      cwd: ROOT,
      env: { ...process.env, SKEIN_DATA: dataDir, SKEIN_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /PORT (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)))
  })
  return { child, port, exited }
}

/** RSS of a process (Linux /proc), in bytes; NaN elsewhere. */
function procRss(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

/**
 * Waits until a process used < 2% CPU over half a second; false when it did
 * not within 30 s (a CPU profiler keeps a process busy).
 */
async function quietProcess(pid: number | undefined): Promise<boolean> {
  let prev = procCpuMs(pid)
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500))
    const now = procCpuMs(pid)
    if (now - prev < 10) return true
    prev = now
  }
  return false
}

/** User + system CPU time of a process so far (Linux /proc), in ms; NaN elsewhere. */
function procCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return NaN
  }
}

interface AgentStats {
  known: number
  rss: number
  cpuUs: number
  pending: number
  openBodies: number
}

/** A device agent in its own process (agent-bench-child.ts). */
class AgentProc {
  private constructor(
    private readonly child: ChildProcess,
    /** Wall clock when the agent was created (after the process loaded its modules). */
    readonly begin: number,
    /** How long `start()` took (index, first sync, first pass). */
    readonly startMs: number,
  ) {}

  static async start(
    root: string,
    url: string,
    device: string,
    execArgv: string[] = [],
    bodyIdleMs = 60_000,
  ): Promise<AgentProc> {
    const child = fork(AGENT_CHILD, [root, url, 'bench', device, String(bodyIdleMs)], {
      cwd: ROOT,
      execArgv: ['--conditions=@skein/source', '--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const m = await new Promise<{ begin: number; started: number }>((resolve, reject) => {
      child.once('message', (msg) => resolve(msg as { begin: number; started: number }))
      child.once('exit', (c) => reject(new Error(`agent ${device} exited with ${c}`)))
    })
    return new AgentProc(child, m.begin, m.started)
  }

  stats(): Promise<AgentStats> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as AgentStats))
      this.child.send('stats')
    })
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.send('stop')
    await exited
  }
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
      'notes (~2 KB, depth 4) on A; time until B (empty) holds the same files; server and each agent in its own process',
    async run(ctx) {
      const n = ctx.full ? 10_000 : 2_000
      const base = await ctx.tmpDir()
      const a = join(base, 'a')
      const b = join(base, 'b')
      makeTree(a, n, 2048, 4, 50)
      mkdirSync(b)
      const serverProfile = process.env.SKEIN_BENCH_PROFILE_SERVER
      const server = await serverProcess(
        join(base, 'server-db'),
        serverProfile ? ['--cpu-prof', `--cpu-prof-dir=${serverProfile}`] : [],
      )
      const url = `ws://127.0.0.1:${server.port}`
      const profile = process.env.SKEIN_BENCH_PROFILE
      try {
        const agentA = await AgentProc.start(a, url, 'a')
        const tA = agentA.startMs
        const knownA = (await agentA.stats()).known
        // start() returns once A has sent its uploads, not once the server has
        // stored them: B starts on a quiet server, or it is charged A's tail.
        const settled = await quietProcess(server.child.pid)
        const tAStored = Date.now() - agentA.begin
        const serverCpu0 = procCpuMs(server.child.pid)
        const agentB = await AgentProc.start(b, url, 'b', [
          ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
          ...(process.env.SKEIN_BENCH_NODE_ARGS_B?.split(' ').filter(Boolean) ?? []),
        ])
        let peakB = 0
        for (;;) {
          const st = await agentB.stats()
          peakB = Math.max(peakB, st.rss)
          if (st.known >= knownA) break
          if (Date.now() - agentB.begin > 600_000) throw new Error('benchmark step timed out')
          await new Promise((r) => setTimeout(r, 20))
        }
        // From B's creation (its process has loaded its modules) until it holds every file.
        const tB = Date.now() - agentB.begin
        const [sa, sb] = [await agentA.stats(), await agentB.stats()]
        const serverRss = procRss(server.child.pid)
        await agentA.stop()
        await agentB.stop()
        return {
          metrics: [
            { name: 'A indexes + uploads', unit: 'ms', samples: [tA] },
            { name: 'A until the server is quiet', unit: 'ms', samples: [tAStored] },
            { name: 'B identical', unit: 'ms', samples: [tB] },
            { name: 'B CPU', unit: 'ms', samples: [sb.cpuUs / 1000] },
            {
              name: 'server CPU during B’s sync',
              unit: 'ms',
              samples: [procCpuMs(server.child.pid) - serverCpu0],
            },
            { name: 'RSS agent A', unit: 'MB', samples: [sa.rss / 1e6] },
            { name: 'RSS agent B (peak while syncing)', unit: 'MB', samples: [peakB / 1e6] },
            { name: 'RSS server', unit: 'MB', samples: [serverRss / 1e6] },
          ],
          notes: [
            `${n} notes; goal figure is for 10,000 (SKEIN_BENCH_FULL=1)`,
            settled
              ? 'B started once the server had stored A’s uploads (< 2% CPU over 0.5 s)'
              : 'the server did not go quiet within 30 s after A started: B’s figures include A’s tail',
            'server (LevelDB, default limits) and each agent in its own process; times start when the agent is created (module loading excluded); SKEIN_BENCH_PROFILE=<dir> / SKEIN_BENCH_PROFILE_SERVER=<dir> write CPU profiles of B / the server; SKEIN_BENCH_NODE_ARGS_B adds node flags to B',
            `load average at the end: ${loadavg()
              .map((l) => l.toFixed(2))
              .join(' ')}`,
          ],
        }
      } finally {
        // SIGTERM lets a profiled server write its profile.
        server.child.kill(serverProfile ? 'SIGTERM' : 'SIGKILL')
        await server.exited
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
