/**
 * Bugs the chaos harness found, each pinned as a small deterministic test
 * (the seed that found it is named; replays are timing-dependent, these are not).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AgentHarness, readText, until } from '../helpers/agent-harness.js'

describe('chaos regressions', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  // seed 198130962: a note created and deleted while offline left "1 pending file" forever.
  it('a file created then deleted (or renamed) while offline leaves nothing pending', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'keep.md': 'keep\n' })
    await h.stopServer()
    await until('offline', () => a.agent.status().connection === 'offline')
    writeFileSync(join(a.root, 'gone.md'), 'created offline\n')
    writeFileSync(join(a.root, 'moved.md'), 'created offline, renamed\n')
    await until('two pending', () => a.agent.status().pendingFiles === 2)
    rmSync(join(a.root, 'gone.md'))
    renameSync(join(a.root, 'moved.md'), join(a.root, 'renamed.md'))
    await h.startServer()
    const b = await h.agent('b')
    await until('renamed note on B', () => readText(b.root, 'renamed.md') !== undefined)
    await until('nothing pending on A', () => a.agent.status().pendingFiles === 0)
    expect(readText(b.root, 'renamed.md')).toBe('created offline, renamed\n')
    expect(readText(b.root, 'gone.md')).toBeUndefined()
  })

  // seed 1220089691 (chaos-input, "a file that flips"): a text note that became binary never
  // reached the other device — the entry kept kind `text`, so B read the unchanged body and even
  // wrote the old text's hash back.
  it('a text note that becomes binary reaches the other device byte-identical', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'flip.md': 'hello\n' })
    const b = await h.agent('b')
    await until('flip.md on B', () => readText(b.root, 'flip.md') === 'hello\n')
    const bin = Buffer.concat([
      Buffer.from('hello\n'),
      Buffer.from([0, 0xff, 0xfe]),
      Buffer.from('x\n'),
    ])
    writeFileSync(join(a.root, 'flip.md'), bin)
    await until('the binary flip.md on B', () => readFileSync(join(b.root, 'flip.md')).equals(bin))
    const entry = b.agent.workspaceCrdt?.list().find((e) => e.name === 'flip.md')
    expect(entry?.kind).toBe('binary')
  })
})
