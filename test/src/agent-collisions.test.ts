/**
 * Two or three devices that create the same path without seeing each other
 * end with identical folders: one note at the path, every other version as a
 * conflict copy `<stem>.conflict-<device>-<YYYYMMDD-HHMMSS><ext>` (DESIGN §3,
 * §6), recorded in the WorkspaceCrdt, nothing lost. Holding back each agent's
 * incoming workspace updates (fault injection around the real transport) makes
 * the reconnect race — both create an entry before the other's arrives —
 * deterministic; the server-restart test lets the real race decide.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileId } from '@skein/core'
import { isConflictCopyName } from '@skein/agent'
import { AgentHarness, put, snapshot, until } from './helpers/agent-harness.js'
import type { TestAgent } from './helpers/agent-harness.js'
import { heldTransport } from './helpers/agent-held-transport.js'
import type { HeldTransport } from './helpers/agent-held-transport.js'

const copyRe = (stem: string, device: string, ext: string) =>
  new RegExp(`^${stem}\\.conflict-${device}-\\d{8}-\\d{6}${ext.replace('.', '\\.')}$`)

/** Waits until every agent's folder shows `expectedFiles` files and all folders are identical. */
async function converged(agents: TestAgent[], expectedFiles: number): Promise<void> {
  const files = (t: TestAgent) => Object.keys(snapshot(t.root)).filter((p) => !p.endsWith('/'))
  const same = () => {
    const first = JSON.stringify(snapshot(agents[0]!.root))
    return agents.every((t) => JSON.stringify(snapshot(t.root)) === first)
  }
  await until(
    `${agents.length} identical folders of ${expectedFiles} files`,
    () => agents.every((t) => files(t).length === expectedFiles) && same(),
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; folders: ${JSON.stringify(agents.map((t) => snapshot(t.root)))}`,
    )
  })
  for (const t of agents) await t.agent.whenIdle()
  expect(agents.map((t) => snapshot(t.root))).toEqual(agents.map(() => snapshot(agents[0]!.root)))
}

describe('the same path created on several devices without seeing each other', () => {
  let h: AgentHarness
  const held: HeldTransport[] = []
  afterEach(async (ctx) => {
    await h.cleanup(ctx)
    await Promise.all(held.splice(0).map((t) => t.transport.close()))
  })

  /** Agents on one real server whose incoming workspace updates can be held back. */
  const agents = async (...names: string[]) => {
    h = new AgentHarness()
    await h.startServer()
    const out: TestAgent[] = []
    for (const name of names) {
      const t = heldTransport(h.url, h.workspace)
      held.push(t)
      out.push(await h.agent(name, {}, { transport: t.transport }))
    }
    for (const t of held) t.hold()
    return out
  }
  /** Waits until `t` created an entry of its own at `path` (without having seen the others'). */
  const created = (t: TestAgent, path: string) =>
    until(`${t.name} created ${path}`, () => {
      const id = t.agent.workspaceCrdt!.findByPath(path)
      return id !== undefined && t.agent.knownFiles().includes(id)
    })
  const entryOf = (t: TestAgent, path: string) => {
    const ws = t.agent.workspaceCrdt!
    return ws.get(ws.findByPath(path)!)!
  }
  const release = () => held.forEach((t) => t.release())

  it('different text: one note at the path, the other as a conflict copy (a rename of its entry), recorded', async () => {
    const [a, b] = (await agents('a', 'b')) as [TestAgent, TestAgent]
    put(a.root, 'x.md', 'from A\n')
    await created(a, 'x.md')
    put(b.root, 'x.md', 'from B\n')
    await created(b, 'x.md')
    const ea = entryOf(a, 'x.md')
    const eb = entryOf(b, 'x.md')
    expect(ea.id).not.toBe(eb.id)
    // The entry with the smaller (createdAt, FileId) keeps the path (as the view already shows it).
    const [winner, loser] =
      ea.createdAt < eb.createdAt || (ea.createdAt === eb.createdAt && ea.id < eb.id)
        ? [a, b]
        : [b, a]
    const loserId: FileId = (loser === a ? ea : eb).id
    release()
    await converged([a, b], 2)
    const snap = snapshot(a.root)
    const copy = Object.keys(snap).find((p) => isConflictCopyName(p))!
    expect(Object.keys(snap).sort()).toEqual([copy, 'x.md'].sort())
    expect(snap['x.md']).toBe(winner === a ? 'from A\n' : 'from B\n')
    expect(copy).toMatch(copyRe('x', loser.name, '.md'))
    expect(snap[copy]).toBe(loser === a ? 'from A\n' : 'from B\n')
    for (const t of [a, b]) {
      const ws = t.agent.workspaceCrdt!
      // The loser's entry was renamed (FileId, body and history kept), not deleted and re-created.
      expect(ws.findByPath(copy)).toBe(loserId)
      expect(ws.list({ includeDeleted: true }).filter((e) => e.kind === 'text')).toHaveLength(2)
      expect(ws.conflicts().map((c) => [c.kind, c.copy])).toEqual([['name', loserId]])
    }
    expect([...a.conflicts, ...b.conflicts].map((c) => c.kind)).toContain('name')
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  it('three devices, three texts: one note and two copies, identical everywhere', async () => {
    const all = await agents('a', 'b', 'c')
    for (const t of all) {
      put(t.root, 'n/x.md', `from ${t.name}\n`)
      await created(t, 'n/x.md')
    }
    release()
    await converged(all, 3)
    const snap = snapshot(all[0]!.root)
    const copies = Object.keys(snap).filter((p) => isConflictCopyName(p))
    expect([snap['n/x.md'], ...copies.map((p) => snap[p])].sort()).toEqual([
      'from a\n',
      'from b\n',
      'from c\n',
    ])
    for (const t of all)
      expect(t.agent.workspaceCrdt!.conflicts().filter((r) => r.kind === 'name')).toHaveLength(2)
  })

  it('two of three devices hold the same text: it is kept once, the third text as a copy', async () => {
    const [a, b, c] = (await agents('a', 'b', 'c')) as [TestAgent, TestAgent, TestAgent]
    for (const [t, text] of [
      [a, 'same\n'],
      [b, 'same\n'],
      [c, 'other\n'],
    ] as const) {
      put(t.root, 'x.md', text)
      await created(t, 'x.md')
    }
    release()
    await converged([a, b, c], 2)
    const snap = snapshot(a.root)
    expect(snap['x.md']).toBe('same\n')
    const copy = Object.keys(snap).find((p) => isConflictCopyName(p))!
    expect(copy).toMatch(copyRe('x', 'c', '.md'))
    expect(snap[copy]).toBe('other\n')
  })

  it('a file on one device, a folder of the same name on the other: the folder keeps the name, the file becomes a copy', async () => {
    const [a, b] = (await agents('a', 'b')) as [TestAgent, TestAgent]
    put(b.root, 'x/inner.md', 'inner\n')
    await created(b, 'x/inner.md')
    put(a.root, 'x', 'file x\n')
    await created(a, 'x')
    release()
    await converged([a, b], 2)
    const snap = snapshot(a.root)
    expect(snap['x/inner.md']).toBe('inner\n')
    const copy = Object.keys(snap).find((p) => isConflictCopyName(p))!
    expect(copy).toMatch(copyRe('x', 'a', ''))
    expect(snap[copy]).toBe('file x\n')
  })

  it('two folder entries of the same name are merged into one; clashing notes inside follow the file rule', async () => {
    const [a, b] = (await agents('a', 'b')) as [TestAgent, TestAgent]
    // A folder's FileId derives from where it was created: folders reached by renames differ.
    put(a.root, 'tmpa/a.md', 'a\n')
    put(a.root, 'tmpa/s.md', 'A side\n')
    await created(a, 'tmpa/s.md')
    renameSync(join(a.root, 'tmpa'), join(a.root, 'notes'))
    await created(a, 'notes/s.md')
    put(b.root, 'tmpb/b.md', 'b\n')
    put(b.root, 'tmpb/s.md', 'B side\n')
    await created(b, 'tmpb/s.md')
    renameSync(join(b.root, 'tmpb'), join(b.root, 'notes'))
    await created(b, 'notes/s.md')
    expect(entryOf(a, 'notes').id).not.toBe(entryOf(b, 'notes').id)
    release()
    await converged([a, b], 4)
    const snap = snapshot(a.root)
    expect(snap['notes/a.md']).toBe('a\n')
    expect(snap['notes/b.md']).toBe('b\n')
    const copy = Object.keys(snap).find((p) => isConflictCopyName(p))!
    expect(copy.startsWith('notes/s.conflict-')).toBe(true)
    expect([snap['notes/s.md'], snap[copy]].sort()).toEqual(['A side\n', 'B side\n'])
    expect(Object.keys(snap).filter((p) => p.endsWith('/'))).toEqual(['notes/'])
  })

  it('created offline on both while the server is down: identical folders, both texts kept', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a')
    const b = await h.agent('b')
    await h.stopServer()
    await until(
      'both offline',
      () => a.agent.status().connection === 'offline' && b.agent.status().connection === 'offline',
    )
    put(a.root, 'o/x.md', 'offline A\n')
    put(b.root, 'o/x.md', 'offline B\n')
    writeFileSync(join(a.root, 'same.md'), 'same on both\n')
    writeFileSync(join(b.root, 'same.md'), 'same on both\n')
    await until(
      'pending recorded',
      () => a.agent.status().pendingFiles === 2 && b.agent.status().pendingFiles === 2,
    )
    await h.startServer()
    await converged([a, b], 3)
    const snap = snapshot(a.root)
    expect(snap['same.md']).toBe('same on both\n')
    const copy = Object.keys(snap).find((p) => isConflictCopyName(p))!
    expect(copy.startsWith('o/x.conflict-')).toBe(true)
    expect([snap['o/x.md'], snap[copy]].sort()).toEqual(['offline A\n', 'offline B\n'])
  })
})
