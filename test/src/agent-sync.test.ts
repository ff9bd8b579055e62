import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { sha256HexSync } from '@skein/core/node'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AgentHarness, put, readText, until } from './helpers/agent-harness.js'

describe('agents against a real SyncServer', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('create, edit, rename, move and delete of files and folders on A appear on B and back', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'notes/one.md': 'hello\n' })
    const b = await h.agent('b')
    await until('one.md on B', () => readText(b.root, 'notes/one.md') === 'hello\n')
    writeFileSync(join(a.root, 'notes/one.md'), 'hello\nworld\n')
    await until('edit on B', () => readText(b.root, 'notes/one.md') === 'hello\nworld\n')
    put(b.root, 'two.md', 'from b')
    await until('two.md on A', () => readText(a.root, 'two.md') === 'from b')
    renameSync(join(a.root, 'two.md'), join(a.root, 'notes/three.md'))
    await until(
      'move on B',
      () => readText(b.root, 'notes/three.md') === 'from b' && !existsSync(join(b.root, 'two.md')),
    )
    renameSync(join(b.root, 'notes'), join(b.root, 'renamed'))
    await until(
      'folder rename on A',
      () =>
        readText(a.root, 'renamed/one.md') === 'hello\nworld\n' &&
        !existsSync(join(a.root, 'notes')),
    )
    rmSync(join(b.root, 'renamed/one.md'))
    await until('delete on A', () => !existsSync(join(a.root, 'renamed/one.md')))
    const trash = readdirSync(join(a.root, '.skein/trash'))
    expect(trash).toHaveLength(1)
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  // Found by chaos (extensive, seed 394154836): a folder deleted with its notes came back,
  // empty, on every device — its base was dropped while its notes' deletes waited out the
  // grace period, so the folder entry was never deleted.
  it('a folder deleted with everything in it is gone on every device and stays gone', async () => {
    h = new AgentHarness()
    await h.startServer()
    const files: Record<string, string> = { 'kept.md': 'kept\n', 'also.md': 'also\n' }
    for (const p of ['doomed/a.md', 'doomed/b.md', 'doomed/sub/c.md']) files[p] = `${p}\n`
    const a = await h.agent('a', files)
    const b = await h.agent('b')
    await until('files on B', () => existsSync(join(b.root, 'doomed/sub/c.md')))
    rmSync(join(b.root, 'doomed'), { recursive: true })
    const live = (t: typeof a) =>
      t.agent.workspaceCrdt!.list().map((e) => t.agent.workspaceCrdt!.getPath(e.id))
    await until('deleted in the workspace', () =>
      [a, b].every((t) => !live(t).some((p) => p?.startsWith('doomed'))),
    )
    await until('gone on A', () => !existsSync(join(a.root, 'doomed')))
    await a.agent.whenIdle()
    await b.agent.whenIdle()
    for (const t of [a, b]) expect(existsSync(join(t.root, 'doomed'))).toBe(false)
    expect(live(a).sort()).toEqual(['also.md', 'kept.md'])
  })

  it('a folder deleted on one device while another adds a note to it keeps the folder with the note', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'f/old.md': 'old\n', 'x.md': 'x\n', 'y.md': 'y\n' })
    const b = await h.agent('b')
    await until('f/old.md on B', () => readText(b.root, 'f/old.md') === 'old\n')
    await h.stopServer()
    await until('both offline', () =>
      [a, b].every((t) => t.agent.status().connection === 'offline'),
    )
    rmSync(join(b.root, 'f'), { recursive: true })
    writeFileSync(join(a.root, 'f/new.md'), 'new\n')
    await until('A pending', () => a.agent.status().pendingFiles === 1)
    await h.startServer()
    await until('new note on B', () => readText(b.root, 'f/new.md') === 'new\n', 20_000)
    await a.agent.whenIdle()
    await b.agent.whenIdle()
    for (const t of [a, b]) {
      expect(readText(t.root, 'f/new.md')).toBe('new\n')
      expect(t.agent.workspaceCrdt!.findByPath('f')).toBeDefined()
    }
  })

  it('a 1 MB binary file round-trips through the blob endpoints, hash-checked both ways', async () => {
    h = new AgentHarness()
    await h.startServer()
    const image = randomBytes(1 << 20)
    image[0] = 0 // a NUL: binary for isText
    const a = await h.agent('a', {})
    const b = await h.agent('b')
    put(a.root, 'img/photo.png', image)
    const hashOf = (root: string, p: string) =>
      existsSync(join(root, p)) ? sha256HexSync(readFileSync(join(root, p))) : undefined
    await until('photo on B', () => hashOf(b.root, 'img/photo.png') === sha256HexSync(image))
    const entry = b.agent.workspaceCrdt!.list().find((e) => e.name === 'photo.png')
    expect(entry).toMatchObject({ kind: 'binary', blob: sha256HexSync(image), size: 1 << 20 })
    const edited = Buffer.concat([image, Buffer.from('more')])
    writeFileSync(join(b.root, 'img/photo.png'), edited)
    await until('edit on A', () => hashOf(a.root, 'img/photo.png') === sha256HexSync(edited))
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  it('a binary file turned into text is a co-edited note again (kind text, body holds it)', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'n.md': Buffer.from([0x6e, 0, 0xff, 1]) })
    const b = await h.agent('b')
    await until('binary on B', () => existsSync(join(b.root, 'n.md')))
    expect(b.agent.workspaceCrdt!.list().find((e) => e.name === 'n.md')?.kind).toBe('binary')
    writeFileSync(join(a.root, 'n.md'), 'text again\nline 2\n')
    await until('text on B', () => readText(b.root, 'n.md') === 'text again\nline 2\n')
    expect(b.agent.workspaceCrdt!.list().find((e) => e.name === 'n.md')?.kind).toBe('text')
    // Live, line by line: an edit on each side merges instead of one replacing the other.
    writeFileSync(join(b.root, 'n.md'), 'text again by B\nline 2\n')
    await until('B on A', () => readText(a.root, 'n.md') === 'text again by B\nline 2\n')
    writeFileSync(join(a.root, 'n.md'), 'text again by B\nline 2 by A\n')
    await until('A on B', () => readText(b.root, 'n.md') === 'text again by B\nline 2 by A\n')
    expect([...a.errors, ...b.errors]).toEqual([])
    expect([...a.conflicts, ...b.conflicts]).toEqual([])
  })

  it('a restarted agent resumes from its state: no re-upload, edits made while stopped sync', async () => {
    h = new AgentHarness()
    await h.startServer()
    const files: Record<string, string> = {}
    for (let i = 0; i < 30; i++) files[`r/n${i}.md`] = `note ${i}\n`
    const a = await h.agent('a', files)
    const b = await h.agent('b')
    await until('files on B', () => readText(b.root, 'r/n29.md') === 'note 29\n')
    const ids = b.agent
      .workspaceCrdt!.list()
      .map((e) => e.id)
      .sort()
    await h.stopAgent(a)
    writeFileSync(join(a.root, 'r/n3.md'), 'edited while stopped\n')
    const again = await h.agent('a', {}, {}, a.root)
    await until('edit on B', () => readText(b.root, 'r/n3.md') === 'edited while stopped\n')
    await again.agent.whenIdle()
    expect(
      b.agent
        .workspaceCrdt!.list()
        .map((e) => e.id)
        .sort(),
    ).toEqual(ids)
    expect(again.conflicts).toEqual([])
    expect(readdirSync(join(a.root, 'r'))).toHaveLength(30)
  })
})
