/** Runs `server-child.ts` as a child process (for SIGKILL/SIGTERM and memory tests). */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')

/** What a child with `inspect: true` reports; heap is measured after a full GC. */
export interface ChildStats {
  docs: number
  heap: number
  rss: number
}

/** A child server process and its port. */
export interface ChildServer {
  child: ChildProcess
  port: number
  /** Resolves when the process has exited. */
  exited: Promise<void>
  /** Loaded documents and memory (only when spawned with `inspect: true`). */
  stats(): Promise<ChildStats>
}

/** Extra ways to start the child. */
export interface SpawnOptions {
  /** Environment additions (e.g. `SKEIN_EVICT_MS`). */
  env?: Record<string, string>
  /** Open an IPC channel and expose `gc` so {@link ChildServer.stats} works. */
  inspect?: boolean
}

/** Spawns a server child on `dataDir`; resolves once it listens. */
export async function spawnServer(
  dataDir: string,
  port = 0,
  options: SpawnOptions = {},
): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [
      ...(options.inspect ? ['--expose-gc'] : []),
      '--conditions=@skein/source',
      '--import',
      'tsx',
      join(here, 'server-child.ts'),
    ],
    {
      cwd: root,
      env: { ...process.env, ...options.env, SKEIN_DATA: dataDir, SKEIN_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit', ...(options.inspect ? (['ipc'] as const) : [])],
    },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const bound = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /PORT (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`server child exited early with ${code}`)))
  })
  const stats = () =>
    new Promise<ChildStats>((resolve, reject) => {
      if (!child.send) return reject(new Error('spawn the server child with inspect: true'))
      child.once('message', (m) => resolve(m as ChildStats))
      child.send('stats')
    })
  return { child, port: bound, exited, stats }
}
