/**
 * Local names the workspace cannot hold are skipped files, not agent errors:
 * they are listed in `status()` with a message naming the file and what to do,
 * reported once as an `issue`, never half-synced, and they sync as soon as the
 * user renames them.
 */
import { renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AgentHarness, readText, snapshot, until } from './helpers/agent-harness.js'

describe('local names that cannot be synced', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('are listed as skipped files with what to do, never errors, and sync once renamed', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', {
      'ok.md': 'ok\n',
      'back\\slash.md': 'backslash\n',
      'ctl\u0001.md': 'control\n',
      'Case.md': 'upper\n',
      'case.md': 'lower\n',
    })
    symlinkSync(join(a.root, 'ok.md'), join(a.root, 'link.md'))
    await a.agent.rescan()
    const b = await h.agent('b')
    await until('ok.md on B', () => readText(b.root, 'ok.md') === 'ok\n')
    // Added while running: seen by the watcher, one path at a time.
    writeFileSync(join(a.root, 'later\\name.md'), 'later\n')
    await until('later one skipped', () =>
      a.agent.status().skippedFiles.some((f) => f.path === 'later\\name.md'),
    )
    await a.agent.whenIdle()
    const st = a.agent.status()
    expect(st.skippedFiles.map((f) => [f.path, f.kind])).toEqual([
      ['back\\slash.md', 'unsyncable-name'],
      ['case.md', 'case-twin'],
      ['ctl\u0001.md', 'unsyncable-name'],
      ['later\\name.md', 'unsyncable-name'],
      ['link.md', 'symlink'],
    ])
    expect(st.skipped).toBe(5)
    for (const f of st.skippedFiles) expect(f.message).toContain(f.path)
    for (const f of st.skippedFiles.filter((x) => x.kind !== 'symlink'))
      expect(f.message).toMatch(/Rename/)
    expect(a.errors).toEqual([])
    // Reported once each, not on every pass.
    await a.agent.rescan()
    expect(a.issues.filter((i) => i.path === 'case.md')).toHaveLength(1)
    // Nothing of them reached the workspace.
    await b.agent.whenIdle()
    expect(Object.keys(snapshot(b.root)).sort()).toEqual(['Case.md', 'ok.md'])

    renameSync(join(a.root, 'back\\slash.md'), join(a.root, 'slash.md'))
    renameSync(join(a.root, 'case.md'), join(a.root, 'case-2.md'))
    await until(
      'renamed files on B',
      () =>
        readText(b.root, 'slash.md') === 'backslash\n' &&
        readText(b.root, 'case-2.md') === 'lower\n',
    )
    await a.agent.rescan()
    expect(a.agent.status().skippedFiles.map((f) => f.path)).toEqual([
      'ctl\u0001.md',
      'later\\name.md',
      'link.md',
    ])
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  it('a folder where the workspace has a file is skipped both ways, and the rest syncs', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { x: 'a file named x\n', 'other.md': 'other\n' })
    const b = await h.agent('b', { 'x/inner.md': 'inner\n', 'b.md': 'from b\n' })
    await until('B synced the rest', () => readText(a.root, 'b.md') === 'from b\n')
    await until('other.md on B', () => readText(b.root, 'other.md') === 'other\n')
    await b.agent.whenIdle()
    const skipped = b.agent.status().skippedFiles
    expect(skipped.map((f) => [f.path, f.kind])).toEqual([['x', 'path-conflict']])
    expect(skipped[0]?.message).toMatch(/x is a folder here but a file in the workspace/)
    expect([...a.errors, ...b.errors]).toEqual([])
    // Moving the folder away lets both sync.
    renameSync(join(b.root, 'x'), join(b.root, 'y'))
    await b.agent.rescan()
    await until(
      'both on both',
      () =>
        readText(b.root, 'x') === 'a file named x\n' &&
        readText(a.root, 'y/inner.md') === 'inner\n',
    )
    expect(b.agent.status().skipped).toBe(0)
  })
})
