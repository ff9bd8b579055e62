import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Agent } from './agent.js'
import { tempName } from './names.js'
import { MemoryHub } from './memory-transport.js'
import type { MemoryTransport } from './memory-transport.js'
import type { AgentOptions } from './agent-options.js'
import type { SyncTransport } from './sync-transport.js'

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

  it('temp files left by interrupted writes are swept: at start, and when their folder is renamed', async () => {
    n++
    const h = new MemoryHub()
    const crashed = tempName()
    const a = await make(
      'a',
      { 'notes/one.md': 'hello\n', [`notes/${crashed}`]: 'half a wri' },
      {},
      h,
    )
    const b = await make('b', {}, {}, h)
    // The first pass removed the crash's leftover and synced nothing of it.
    expect(existsSync(join(a.root, 'notes', crashed))).toBe(false)
    await until('one.md on B', () => read(b.root, 'notes/one.md') === 'hello\n')
    // A write interrupted by its folder being renamed leaves its temp in the renamed folder.
    const moved = tempName()
    writeFileSync(join(a.root, 'notes', moved), 'half a conflict copy')
    renameSync(join(a.root, 'notes'), join(a.root, 'notes-r'))
    await until('rename on B', () => read(b.root, 'notes-r/one.md') === 'hello\n')
    await until('temp swept', () => !existsSync(join(a.root, 'notes-r', moved)))
    // A file that only looks like a temp (another name shape) is the user's, and synced.
    writeFileSync(join(a.root, 'notes-r', '.skein-notes.tmp.md'), 'mine')
    await until('look-alike on B', () => read(b.root, 'notes-r/.skein-notes.tmp.md') === 'mine')
    expect(readdirSync(join(b.root, 'notes-r')).sort()).toEqual(['.skein-notes.tmp.md', 'one.md'])
  })

  it("a new file that reuses a deleted note's inode is a new file, not a rename of the note (chaos seed 46786858)", async (tctx) => {
    n++
    const h = new MemoryHub()
    const bin = Buffer.from([0, 1, 2, 0, 7, 7, 7])
    const a = await make('a', { 'Projects/a.md': 'one\n', 'journal/keep.md': 'k\n' }, {}, h)
    const b = await make('b', {}, {}, h)
    await until('a.md on B', () => read(b.root, 'Projects/a.md') === 'one\n')
    await Promise.all([a.agent.whenIdle(), b.agent.whenIdle()])
    const ws = a.agent.workspaceCrdt!
    const noteId = ws.findByPath('Projects/a.md')
    // B edits the note while A deletes it and creates an image (ext4 gives it the note's inode).
    const release = h.hold()
    writeFileSync(join(b.root, 'Projects/a.md'), 'one\ntwo\n')
    const ino = statSync(join(a.root, 'Projects/a.md')).ino
    rmSync(join(a.root, 'Projects/a.md'))
    writeFileSync(join(a.root, 'journal/img3.bin'), bin)
    if (statSync(join(a.root, 'journal/img3.bin')).ino !== ino) {
      release()
      console.warn('this filesystem did not reuse the inode: nothing to test here')
      return tctx.skip()
    }
    await until('A pushed the image', () => ws.findByPath('journal/img3.bin') !== undefined)
    await Promise.all([a.agent.whenIdle(), b.agent.whenIdle()])
    // A new file: its own FileId, not the note's.
    expect(ws.findByPath('journal/img3.bin')).not.toBe(noteId)
    release()
    // The delete met B's edit: the edit wins and the note comes back, beside the image.
    const hex = (root: string, p: string) =>
      existsSync(join(root, p)) ? readFileSync(join(root, p)).toString('hex') : undefined
    for (const [name, x] of [
      ['A', a],
      ['B', b],
    ] as const) {
      await until(
        `both files on ${name}`,
        () =>
          read(x.root, 'Projects/a.md') === 'one\ntwo\n' &&
          hex(x.root, 'journal/img3.bin') === bin.toString('hex'),
      )
    }
    await Promise.all([a.agent.whenIdle(), b.agent.whenIdle()])
    expect(readdirSync(join(a.root, 'journal')).sort()).toEqual(['img3.bin', 'keep.md'])
    expect(readdirSync(join(b.root, 'journal')).sort()).toEqual(['img3.bin', 'keep.md'])
  })

  it('a binary file replaced on two devices at once keeps both versions (WS15), not the last writer only', async () => {
    n++
    const h = new MemoryHub()
    const bin = (tag: string) => Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(tag)])
    const a = await make('a', { 'pic.bin': bin('base') as unknown as string }, {}, h)
    const b = await make('b', {}, {}, h)
    const hex = (root: string, p: string) =>
      existsSync(join(root, p)) ? readFileSync(join(root, p)).toString('hex') : undefined
    await until('pic on B', () => hex(b.root, 'pic.bin') === bin('base').toString('hex'))
    await Promise.all([a.agent.whenIdle(), b.agent.whenIdle()])
    // Both devices replace it while neither hears the other: two concurrent workspace writes.
    const release = h.hold()
    writeFileSync(join(a.root, 'pic.bin'), bin('from a'))
    writeFileSync(join(b.root, 'pic.bin'), bin('from b'))
    const pushed = (x: { agent: Agent }, tag: string, device: string) => {
      const e = x.agent.workspaceCrdt?.list().find((f) => f.name === 'pic.bin')
      return e?.size === bin(tag).length && e.updatedBy === device
    }
    await until('both pushed', () => pushed(a, 'from a', 'a') && pushed(b, 'from b', 'b'))
    release()
    const all = (root: string) =>
      readdirSync(root)
        .filter((f) => f.startsWith('pic'))
        .map((f) => hex(root, f))
        .sort()
    const want = [bin('from a'), bin('from b')].map((x) => x.toString('hex')).sort()
    await until('both versions on both devices', () => {
      const fa = all(a.root)
      return (
        JSON.stringify(fa) === JSON.stringify(want) &&
        JSON.stringify(all(b.root)) === JSON.stringify(want)
      )
    })
    expect(readdirSync(a.root).filter((f) => f.startsWith('pic')).length).toBe(2)
  })

  it('a body whose updates were never acknowledged is sent after a restart, though its file did not change', async () => {
    n++
    const h = new MemoryHub()
    // A's note bodies never reach the hub: a link that drops every body frame, no acks.
    const lossy = (t: MemoryTransport): SyncTransport => ({
      get connected() {
        return t.connected
      },
      onConnection: (cb) => t.onConnection(cb),
      putBlob: (w, hash, bytes) => t.putBlob(w, hash, bytes),
      getBlob: (w, hash) => t.getBlob(w, hash),
      close: () => t.close(),
      open: (room, doc) =>
        room.includes('/')
          ? {
              synced: () => Promise.resolve(),
              flushed: () => new Promise<void>(() => {}),
              settled: () => false,
              close: () => {},
            }
          : t.open(room, doc),
    })
    const a1 = await make('a', {}, { transport: lossy(h.connect()) }, h)
    writeFileSync(join(a1.root, 'n.md'), 'written on A\n')
    await until(
      'the entry in the workspace',
      () => a1.agent.workspaceCrdt?.findByPath('n.md') !== undefined,
    )
    await a1.agent.whenIdle()
    await a1.agent.stop()
    agents.splice(agents.indexOf(a1.agent), 1)
    // Restarted on a good link: nothing changed on disk, yet the body goes out.
    const a2 = new Agent({
      root: a1.root,
      workspace: `w${n}`,
      device: 'a',
      transport: h.connect(),
      debounceMs: 10,
      rescanIntervalMs: 0,
    })
    agents.push(a2)
    await a2.start()
    const b = await make('b', {}, {}, h)
    await until('the note on B', () => read(b.root, 'n.md') === 'written on A\n')
  })
})
