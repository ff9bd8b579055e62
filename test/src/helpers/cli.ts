/** Spawns the real `skein` CLI (from sources) for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MAIN = join(REPO, 'apps', 'cli', 'src', 'main.ts')
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts `skein ...args`; the returned child streams stdout/stderr into `out`. */
export function spawnSkein(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; out: { stdout: string; stderr: string }; exited: Promise<CliResult> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@skein/source', '--import', TSX, MAIN, ...args],
    {
      cwd: REPO,
      env: { ...process.env, SKEIN_DEBUG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const out = { stdout: '', stderr: '' }
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()))
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code, ...out })),
  )
  return { child, out, exited }
}

/** Runs `skein ...args` to completion. */
export function runSkein(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return spawnSkein(args, env).exited
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
type Falsy = undefined | null | false | '' | 0
export async function waitFor<T>(
  what: string,
  fn: () => T | Falsy | Promise<T | Falsy>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  )
}

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Starts `skein serve --port 0 --data DIR ...extra` and waits for its `listening on` line. */
export async function startServe(data: string, extra: string[] = []) {
  const serve = spawnSkein(['serve', '--port', '0', '--data', data, ...extra])
  const url = await waitFor(
    'listening line',
    () => /listening on (ws:\/\/\S+)/.exec(serve.out.stdout)?.[1],
  )
  return { ...serve, url }
}
