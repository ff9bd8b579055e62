/** Runs `server-child.ts` as a child process (for SIGKILL tests and benchmarks). */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')

/** A child server process and its port. */
export interface ChildServer {
  child: ChildProcess
  port: number
  /** Resolves when the process has exited. */
  exited: Promise<void>
}

/** Spawns a server child on `dataDir`; resolves once it listens. */
export async function spawnServer(
  dataDir: string,
  port = 0,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--conditions=@skein/source', '--import', 'tsx', join(here, 'server-child.ts')],
    {
      cwd: root,
      env: { ...process.env, ...env, SKEIN_DATA: dataDir, SKEIN_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const bound = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /PORT (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`server child exited early with ${code}`)))
  })
  return { child, port: bound, exited }
}
