import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  openSync,
  ftruncateSync,
  writeSync,
  closeSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isConflictCopyName } from '@skein/agent'
import type { WorkspaceEvent } from '@skein/workspace'
import { AgentHarness, put, readText, until } from './helpers/agent-harness.js'

describe('agent safety against a real SyncServer', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('a folder rename holding 200 files is one move on the wire, FileIds kept', async () => {
    h = new AgentHarness()
    await h.startServer()
    const files: Record<string, string> = {}
    for (let i = 0; i < 200; i++) files[`big/sub/n${i}.md`] = `note ${i}\n`
    const a = await h.agent('a', files)
    const b = await h.agent('b')
    await until(
      '200 files on B',
      () =>
        existsSync(join(b.root, 'big/sub/n199.md')) &&
        readdirSync(join(b.root, 'big/sub')).length === 200,
    )
    const wsB = b.agent.workspaceCrdt!
    const idsBefore = wsB
      .list()
      .filter((e) => e.kind !== 'folder')
      .map((e) => e.id)
      .sort()
    const events: WorkspaceEvent[] = []
    wsB.observe((ev) => events.push(...ev))
    renameSync(join(a.root, 'big'), join(a.root, 'huge'))
    await until(
      'renamed on B',
      () => readdirSync(b.root).includes('huge') && !existsSync(join(b.root, 'big')),
    )
    await until('all files on B', () => readdirSync(join(b.root, 'huge/sub')).length === 200)
    expect(events.map((e) => e.type)).toEqual(['renamed'])
    expect(
      wsB
        .list()
        .filter((e) => e.kind !== 'folder')
        .map((e) => e.id)
        .sort(),
    ).toEqual(idsBefore)
  })

  it('mass delete of the whole folder pauses the agent; nothing is deleted remotely', async () => {
    h = new AgentHarness()
    await h.startServer()
    const files: Record<string, string> = {}
    for (let i = 0; i < 20; i++) files[`d/n${i}.md`] = `note ${i}\n`
    const a = await h.agent('a', files)
    const b = await h.agent('b')
    await until('files on B', () => existsSync(join(b.root, 'd/n19.md')))
    rmSync(join(a.root, 'd'), { recursive: true })
    await until('A paused', () => a.agent.status().state === 'paused')
    expect(a.agent.status().pausedReason).toMatch(/20 of 20 files/)
    await new Promise((r) => setTimeout(r, 300))
    expect(readdirSync(join(b.root, 'd'))).toHaveLength(20)
    expect(b.agent.workspaceCrdt!.list().filter((e) => e.deleted)).toEqual([])
  })

  it('two devices starting with the same note end with one copy of the text', async () => {
    h = new AgentHarness()
    await h.startServer()
    const text = '# Same\nsame text\n'
    const a = await h.agent('a', { 'same.md': text })
    const b = await h.agent('b', { 'same.md': text })
    const c = await h.agent('c')
    await until('same.md on C', () => readText(c.root, 'same.md') === text)
    for (const t of [a, b, c])
      expect(readdirSync(t.root).filter((n) => n !== '.skein')).toEqual(['same.md'])
    for (const t of [a, b, c]) expect(readText(t.root, 'same.md')).toBe(text)
    expect(c.agent.workspaceCrdt!.list().filter((e) => e.kind === 'text')).toHaveLength(1)
  })

  it('joining with different content at the same path keeps both: CRDT text in the file, disk as a copy', async () => {
    h = new AgentHarness()
    await h.startServer()
    await h.agent('a', { 'j.md': 'from A\n' })
    const b = await h.agent('b', { 'j.md': 'from B\n' })
    await until('join conflict on B', () => readText(b.root, 'j.md') === 'from A\n')
    const copy = readdirSync(b.root).find((n) => isConflictCopyName(n))
    expect(copy).toMatch(/^j\.conflict-b-\d{8}-\d{6}\.md$/)
    expect(readText(b.root, copy!)).toBe('from B\n')
    expect(b.conflicts.map((c) => c.kind)).toEqual(['join'])
  })

  it('editor-style saves (temp + rename, truncate + write) sync without spurious conflicts', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'e.md': 'v1\n' })
    const b = await h.agent('b')
    await until('e.md on B', () => readText(b.root, 'e.md') === 'v1\n')
    for (let i = 2; i <= 6; i++) {
      // vim-style: write a temp file, rename it over the note
      writeFileSync(join(a.root, '.e.md.swp'), 'swap')
      writeFileSync(join(a.root, 'e.md.tmp'), `v${i}\n`)
      renameSync(join(a.root, 'e.md.tmp'), join(a.root, 'e.md'))
      rmSync(join(a.root, '.e.md.swp'))
      await until(`v${i} on B`, () => readText(b.root, 'e.md') === `v${i}\n`)
      // truncate + write in place
      const fd = openSync(join(b.root, 'e.md'), 'r+')
      ftruncateSync(fd, 0)
      writeSync(fd, `w${i}\n`, 0)
      closeSync(fd)
      await until(`w${i} on A`, () => readText(a.root, 'e.md') === `w${i}\n`)
    }
    expect([...a.conflicts, ...b.conflicts]).toEqual([])
    expect(readdirSync(a.root).filter((n) => isConflictCopyName(n))).toEqual([])
  })

  it('a watcher that missed events is caught up by a rescan', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'r.md': 'before\n' })
    const b = await h.agent('b')
    await until('r.md on B', () => readText(b.root, 'r.md') === 'before\n')
    await a.agent.setWatching(false)
    writeFileSync(join(a.root, 'r.md'), 'after\n')
    mkdirSync(join(a.root, 'new'))
    put(a.root, 'new/x.md', 'x')
    await new Promise((r) => setTimeout(r, 200))
    expect(readText(b.root, 'r.md')).toBe('before\n')
    await a.agent.rescan()
    await until(
      'caught up on B',
      () => readText(b.root, 'r.md') === 'after\n' && readText(b.root, 'new/x.md') === 'x',
    )
  })
})
