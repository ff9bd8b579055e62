import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isConflictCopyName } from '@skein/agent'
import { AgentHarness, readText, until, type TestAgent } from './helpers/agent-harness.js'

const NOTE = 'line 1\nline 2\nline 3\nline 4\n'
/** NOTE's first line, then bytes that make it binary. */
const BINARY = Buffer.concat([Buffer.from('line 1\n\u0000'), Buffer.from([0xff, 0x00, 0x01])])

const copies = (root: string) => readdirSync(root).filter((n) => isConflictCopyName(n))

describe('offline edits merged three-way on reconnect (real server restarted)', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  const twoAgents = async (
    policy: 'copy' | 'markers' | 'ours' | 'theirs' = 'copy',
    name = 'n.md',
  ) => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { [name]: NOTE }, { conflictPolicy: policy })
    const b = await h.agent('b', {}, { conflictPolicy: policy })
    await until(`${name} on B`, () => readText(b.root, name) === NOTE)
    await h.stopServer()
    await until(
      'both offline',
      () => a.agent.status().connection === 'offline' && b.agent.status().connection === 'offline',
    )
    return { a, b }
  }

  /** Waits until each offline device has recorded its one edit as pending. */
  const bothPending = (a: TestAgent, b: TestAgent) =>
    until(
      'pending recorded',
      () => a.agent.status().pendingFiles === 1 && b.agent.status().pendingFiles === 1,
    )

  /**
   * Line 2 of n.md edited on each offline device (`onA`, `onB`), then the server
   * back: waits until both hold one conflict copy and the same note; returns the
   * agents and the texts of the note and the copy on both.
   */
  const sameLineConflict = async (onA: string, onB: string) => {
    const { a, b } = await twoAgents()
    writeFileSync(join(a.root, 'n.md'), `line 1\n${onA}\nline 3\nline 4\n`)
    writeFileSync(join(b.root, 'n.md'), `line 1\n${onB}\nline 3\nline 4\n`)
    await bothPending(a, b)
    await h.startServer()
    await until(
      'one conflict copy on both',
      () => copies(a.root).length === 1 && copies(b.root).length === 1,
    )
    await until('same note on both', () => readText(a.root, 'n.md') === readText(b.root, 'n.md'))
    const all = [a, b].flatMap((t) => [
      readText(t.root, 'n.md'),
      readText(t.root, copies(t.root)[0] as string),
    ])
    return { a, b, all }
  }

  it('different lines edited on both sides: both edits on both devices, no conflict', async () => {
    const { a, b } = await twoAgents()
    writeFileSync(join(a.root, 'n.md'), 'line 1 by A\nline 2\nline 3\nline 4\n')
    writeFileSync(join(b.root, 'n.md'), 'line 1\nline 2\nline 3\nline 4 by B\n')
    await bothPending(a, b)
    await h.startServer()
    const merged = 'line 1 by A\nline 2\nline 3\nline 4 by B\n'
    await until(
      'merged on both',
      () => readText(a.root, 'n.md') === merged && readText(b.root, 'n.md') === merged,
    )
    expect([...a.conflicts, ...b.conflicts]).toEqual([])
    expect([...copies(a.root), ...copies(b.root)]).toEqual([])
    await until(
      'pending cleared',
      () => a.agent.status().pendingFiles === 0 && b.agent.status().pendingFiles === 0,
    )
  })

  it('same line edited on both sides: a conflict copy, recorded, nothing lost', async () => {
    const { a, b, all } = await sameLineConflict('A WAS HERE', 'B WAS HERE')
    expect(all.some((x) => x?.includes('A WAS HERE'))).toBe(true)
    expect(all.some((x) => x?.includes('B WAS HERE'))).toBe(true)
    expect(copies(a.root)).toEqual(copies(b.root))
    // The record is written after the copy (it names the copy's FileId): a separate
    // update, which may reach the other device a moment after the copy did.
    await until('conflict recorded on both', () =>
      [a, b].every((t) => (t.agent.workspaceCrdt?.conflicts().length ?? 0) >= 1),
    )
    expect(a.agent.workspaceCrdt!.conflicts().map((c) => c.kind)).toContain('edit')
    // Open on both devices until the copy is deleted — on either one.
    const copy = copies(a.root)[0] as string
    for (const t of [a, b]) {
      expect(t.agent.openConflicts()).toEqual([
        expect.objectContaining({ path: 'n.md', kind: 'edit', copyPath: copy }),
      ])
      expect(t.agent.status().conflicts).toBe(1)
    }
    rmSync(join(b.root, copy))
    await until('settled on both', () => [a, b].every((t) => t.agent.status().conflicts === 0))
    // settled as soon as the copy's entry is deleted; A removes the file from disk just after
    await until('copy gone on A', () => !existsSync(join(a.root, copy)))
    expect(a.agent.openConflicts()).toEqual([])
  })

  it('a word typed into a line on one side, the line rewritten on the other: a copy, no fragments', async () => {
    // Typing is folded by character (merge TX5), a rewrite whole. Here the second
    // device to reconnect usually sees the first one's fold (a three-way merge); when
    // both fold at the same moment the typed word hangs where the old line was and the
    // repair must recognise that as the folds' interleaving (pinned in fold-records.test.ts).
    const typed = 'line 2 and a word typed offline'
    const rewritten = 'B rewrote this line entirely'
    const { all } = await sameLineConflict(typed, rewritten)
    const lines = all.flatMap((x) => (x ?? '').split('\n'))
    expect(lines).toContain(typed)
    expect(lines).toContain(rewritten)
    for (const l of lines)
      expect(['', 'line 1', 'line 3', 'line 4', typed, rewritten], JSON.stringify(lines)).toContain(
        l,
      )
  })

  it('a note that is itself a conflict copy, edited on the same line on both sides: nothing lost', async () => {
    // Found by the chaos harness (seed 240954636): the note counted as an existing copy of
    // itself holding the workspace text, so no copy was written and that text was dropped.
    const name = 'n.conflict-z-20260101-000000.md'
    const { a, b } = await twoAgents('copy', name)
    writeFileSync(join(a.root, name), 'line 1\nA WAS HERE\nline 3\nline 4\n')
    writeFileSync(join(b.root, name), 'line 1\nB WAS HERE\nline 3\nline 4\n')
    await bothPending(a, b)
    await h.startServer()
    const texts = (root: string) => copies(root).map((n) => readText(root, n) ?? '')
    await until(
      'two files on both',
      () => copies(a.root).length === 2 && copies(b.root).length === 2,
    )
    await until(
      'same files on both',
      () => JSON.stringify(texts(a.root)) === JSON.stringify(texts(b.root)),
    )
    for (const t of [a, b]) {
      expect(texts(t.root).some((x) => x.includes('A WAS HERE'))).toBe(true)
      expect(texts(t.root).some((x) => x.includes('B WAS HERE'))).toBe(true)
    }
  })

  it('a note turned binary offline while another device edited its text: both kept, pending cleared', async () => {
    // Found by the chaos harness (seed 1302758099): the binary side looked for the text
    // note's content in the blob store, found nothing and stayed pending for good. Here
    // the text edit reaches the workspace first, then the device holding the binary returns.
    const { a, b } = await twoAgents()
    writeFileSync(join(a.root, 'n.md'), BINARY)
    writeFileSync(join(b.root, 'n.md'), 'line 1\nB WAS HERE\nline 3\nline 4\n')
    await bothPending(a, b)
    await h.stopAgent(a)
    await h.startServer()
    await until('B synced its edit', () => b.agent.status().pendingFiles === 0)
    const a2 = await h.agent('a', {}, {}, a.root)
    const files = (root: string) =>
      readdirSync(root)
        .filter((n) => n.startsWith('n.'))
        .sort()
        .map((n) => readFileSync(join(root, n)).toString('hex'))
    await until(
      'both versions on both devices',
      () =>
        files(a2.root).length === 2 &&
        JSON.stringify(files(a2.root)) === JSON.stringify(files(b.root)),
      20_000,
    )
    for (const t of [a2, b]) {
      const all = files(t.root).map((x) => Buffer.from(x, 'hex'))
      expect(all.some((x) => x.equals(BINARY))).toBe(true)
      expect(all.some((x) => x.toString('utf8').includes('B WAS HERE'))).toBe(true)
    }
    await until('pending cleared', () => a2.agent.status().pendingFiles === 0)
  })

  // The text fold and the switch to binary are concurrent workspace writes; WS16 keeps
  // each writer's kind and hash together and WS15 tells either loser its version lost.
  it('a note turned binary and edited as text at the same moment on two devices keeps both', async () => {
    const { a, b } = await twoAgents()
    writeFileSync(join(a.root, 'n.md'), BINARY)
    writeFileSync(join(b.root, 'n.md'), 'line 1\nB WAS HERE\nline 3\nline 4\n')
    await bothPending(a, b)
    await h.startServer()
    const texts = (root: string) =>
      readdirSync(root)
        .filter((n) => n.startsWith('n.'))
        .map((n) => readFileSync(join(root, n), 'latin1'))
    await until(
      'both versions on both devices',
      () => texts(a.root).length === 2 && texts(a.root).join('\0') === texts(b.root).join('\0'),
    )
    expect(texts(a.root).some((x) => x.includes('B WAS HERE'))).toBe(true)
    expect(texts(a.root)).toContain(BINARY.toString('latin1'))
    await until(
      'pending cleared',
      () => a.agent.status().pendingFiles + b.agent.status().pendingFiles === 0,
    )
  })

  it('a file renamed offline, unchanged, leaves no pending record after reconnect', async () => {
    // Chaos seed 1636334097: the offline pass recorded the new name as a pending
    // create; the rename found on reconnect left it, and an agreed file never cleared it.
    const { a, b } = await twoAgents()
    renameSync(join(a.root, 'n.md'), join(a.root, 'r-n.md'))
    await until('pending recorded', () => a.agent.status().pendingFiles > 0)
    await h.startServer()
    await until(
      'rename on B',
      () => readText(b.root, 'r-n.md') === NOTE && !existsSync(join(b.root, 'n.md')),
    )
    await a.agent.whenIdle()
    await until('pending cleared', () => a.agent.status().pendingFiles === 0, 5_000)
    expect(a.agent.status().pendingPaths).toEqual([])
  })

  it('markers policy writes git-style markers', async () => {
    const { a, b } = await twoAgents('markers')
    writeFileSync(join(a.root, 'n.md'), 'line 1\nA WAS HERE\nline 3\nline 4\n')
    writeFileSync(join(b.root, 'n.md'), 'line 1\nB WAS HERE\nline 3\nline 4\n')
    await bothPending(a, b)
    await h.startServer()
    await until(
      'markers on both',
      () =>
        /^<<<<<<< /m.test(readText(a.root, 'n.md') ?? '') &&
        readText(a.root, 'n.md') === readText(b.root, 'n.md'),
    )
    const text = readText(a.root, 'n.md') as string
    expect(text).toContain('A WAS HERE')
    expect(text).toContain('B WAS HERE')
    expect(text).toMatch(/^=======$/m)
    expect(copies(a.root)).toEqual([])
    // Open on both until the markers are edited out (here on B).
    await until('open on both', () => [a, b].every((t) => t.agent.status().conflicts === 1))
    expect(a.agent.openConflicts()).toEqual([
      expect.objectContaining({ path: 'n.md', kind: 'edit', copyPath: undefined }),
    ])
    writeFileSync(join(b.root, 'n.md'), 'line 1\nA and B WERE HERE\nline 3\nline 4\n')
    await until('settled on both', () => [a, b].every((t) => t.agent.status().conflicts === 0))
    // the record settles in the workspace document; the text reaches A by its body
    await until(
      'the edit on A',
      () => readText(a.root, 'n.md') === 'line 1\nA and B WERE HERE\nline 3\nline 4\n',
    )
    expect(a.agent.status().conflicts).toBe(0)
  })

  for (const policy of ['ours', 'theirs'] as const)
    it(`${policy} policy keeps one version, no copy; the conflict is recorded as settled`, async () => {
      const { a, b } = await twoAgents(policy)
      const versions = ['A', 'B'].map((d) => `line 1\n${d} WAS HERE\nline 3\nline 4\n`)
      writeFileSync(join(a.root, 'n.md'), versions[0]!)
      writeFileSync(join(b.root, 'n.md'), versions[1]!)
      await bothPending(a, b)
      await h.startServer()
      await until('recorded on both', () =>
        [a, b].every((t) => (t.agent.workspaceCrdt?.conflicts().length ?? 0) >= 1),
      )
      await until(
        'one version on both',
        () =>
          readText(a.root, 'n.md') === readText(b.root, 'n.md') &&
          versions.includes(readText(a.root, 'n.md') as string),
      )
      expect([...copies(a.root), ...copies(b.root)]).toEqual([])
      for (const t of [a, b]) {
        for (const c of t.agent.workspaceCrdt!.conflicts())
          expect(c).toMatchObject({ kind: 'edit', resolved: true })
        expect(t.agent.status().conflicts).toBe(0)
      }
    })

  it('an edit on A while B deletes survives on both', async () => {
    const { a, b } = await twoAgents()
    writeFileSync(join(a.root, 'n.md'), NOTE + 'kept edit\n')
    rmSync(join(b.root, 'n.md'))
    await bothPending(a, b)
    await h.startServer()
    await until(
      'edit on both',
      () =>
        readText(a.root, 'n.md') === NOTE + 'kept edit\n' &&
        readText(b.root, 'n.md') === NOTE + 'kept edit\n',
    )
    expect(existsSync(join(a.root, 'n.md'))).toBe(true)
    // Whichever device reconnects first, the edit wins by rule and nothing is lost:
    // a 'delete' record, if one was made, is history, not a conflict to act on.
    await a.agent.whenIdle()
    await b.agent.whenIdle()
    for (const t of [a, b]) expect(t.agent.openConflicts()).toEqual([])
  })
})
