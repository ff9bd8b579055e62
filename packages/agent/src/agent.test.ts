import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Agent } from './agent.js'
import { MemoryHub } from './memory-transport.js'
import type { MemoryTransport } from './memory-transport.js'
import type { AgentOptions } from './agent-options.js'

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const read = (root: string, p: string) =>
  existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined

describe('Agent over an in-process hub (agent logic alone)', () => {
  const dirs: string[] = []
  const agents: Agent[] = []
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()))
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
  })
  const hub = new MemoryHub()
  let n = 0
  const make = async (
    name: string,
    files: Record<string, string> = {},
    opts: Partial<AgentOptions> = {},
    h = hub,
  ): Promise<{ agent: Agent; root: string; t: MemoryTransport }> => {
    const root = mkdtempSync(join(tmpdir(), `skein-agent-${name}-`))
    dirs.push(root)
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true })
      writeFileSync(join(root, p), c)
    }
    const t = h.connect()
    const agent = new Agent({
      root,
      workspace: `w${n}`,
      device: name,
      transport: t,
      debounceMs: 10,
      rescanIntervalMs: 0,
      ...opts,
    })
    agents.push(agent)
    agent.on('error', (e) => console.error(name, e))
    await agent.start()
    return { agent, root, t }
  }

  it('syncs create, edit, rename, move and delete both ways', async () => {
    n++
    const a = await make('a', { 'notes/one.md': 'hello\n' })
    const b = await make('b')
    await until('one.md on B', () => read(b.root, 'notes/one.md') === 'hello\n')
    writeFileSync(join(a.root, 'notes/one.md'), 'hello\nworld\n')
    await until('edit on B', () => read(b.root, 'notes/one.md') === 'hello\nworld\n')
    writeFileSync(join(b.root, 'two.md'), 'from b')
    await until('two.md on A', () => read(a.root, 'two.md') === 'from b')
    renameSync(join(a.root, 'two.md'), join(a.root, 'notes/three.md'))
    await until(
      'move on B',
      () => read(b.root, 'notes/three.md') === 'from b' && !existsSync(join(b.root, 'two.md')),
    )
    rmSync(join(b.root, 'notes/one.md'))
    await until('delete on A', () => !existsSync(join(a.root, 'notes/one.md')))
    expect(readdirSync(join(a.root, '.skein/trash'))).toHaveLength(1)
  })
})
