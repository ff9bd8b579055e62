import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createRng, fuzzSeed } from '@skein/core/testing'
import { isConflictCopyName, isTempName } from '@skein/agent'
import { AgentHarness, put, readText, until } from './helpers/agent-harness.js'

const CHILD = join(import.meta.dirname, 'helpers/agent-child.ts')

function startChild(
  root: string,
  url: string,
  workspace: string,
  device: string,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@skein/source', '--import', 'tsx', CHILD, root, url, workspace, device],
    {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let err = ''
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child)
    })
    child.once('exit', (code) =>
      reject(new Error(`agent child exited (${code}) before ready: ${err}`)),
    )
  })
}

/** Every regular file under root except agent state, as path → text. */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.skein') continue
      const abs = join(dir, e.name)
      if (e.isDirectory()) walk(abs)
      else out.set(relative(root, abs), readText(root, relative(root, abs)) as string)
    }
  }
  walk(root)
  return out
}

describe('agent killed with SIGKILL during a burst of remote writes', () => {
  let h: AgentHarness
  let child: ChildProcess | undefined
  afterEach(async (ctx) => {
    child?.kill('SIGKILL')
    await h.cleanup(ctx)
  })

  it('restarts with no partial file, no temp litter, no lost edit, no duplicate', async () => {
    const seed = fuzzSeed('agent SIGKILL burst')
    const rng = createRng(seed)
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'seed.md': 'seed\n' })
    const bRoot = join(a.root, '..', 'b-child')
    mkdirSync(bRoot, { recursive: true })
    child = await startChild(bRoot, h.url, h.workspace, 'b')
    await until('seed on B', () => readText(bRoot, 'seed.md') === 'seed\n')
    // A burst of creates and edits on A (remote writes for B), and an edit on B.
    for (let i = 0; i < 60; i++)
      put(a.root, `burst/f${i % 20}.md`, `v${i} ${'x'.repeat(rng.int(4000))}\n`)
    writeFileSync(join(bRoot, 'from-b.md'), 'B edit before the crash\n')
    await until('some burst files on B', () => readdirSync(join(bRoot)).includes('burst'))
    await new Promise((r) => setTimeout(r, rng.int(150)))
    child.kill('SIGKILL')
    await new Promise((r) => child?.once('exit', r))
    for (let i = 0; i < 20; i++) put(a.root, `burst/f${i}.md`, `final ${i}\n`)
    child = await startChild(bRoot, h.url, h.workspace, 'b')
    await until(
      'B identical to A',
      () => {
        const ta = tree(a.root)
        const tb = tree(bRoot)
        return ta.size === tb.size && [...ta].every(([p, t]) => tb.get(p) === t)
      },
      30_000,
    )
    const names = [...tree(bRoot).keys()]
    expect(names.filter((n) => isTempName(n.split('/').pop() as string))).toEqual([])
    expect(names.filter((n) => isConflictCopyName(n.split('/').pop() as string))).toEqual([])
    expect(readText(a.root, 'from-b.md')).toBe('B edit before the crash\n')
    expect(readdirSync(join(bRoot, 'burst')).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})
