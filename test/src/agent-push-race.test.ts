/**
 * A push decided on one version of an entry must not overwrite a version that
 * landed while it waited (chaos seed 509216927). Device A edits a note offline
 * while C turns it into a binary file; back online, A keeps its text (binary
 * conflict, disk newer) and turns the note back into text — but waits for the
 * note's body (gated by fault injection), and meanwhile C turns it back into
 * text of its own. A used to fold its text over the body as if the body were
 * the dead binary's leftover: C's text vanished on every device.
 */
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AgentHarness, put, readText, snapshot, until } from './helpers/agent-harness.js'
import type { TestAgent } from './helpers/agent-harness.js'
import { heldTransport } from './helpers/agent-held-transport.js'
import type { HeldTransport } from './helpers/agent-held-transport.js'

describe('a push that waited re-checks the entry before writing', () => {
  let h: AgentHarness
  const transports: HeldTransport[] = []
  afterEach(async (ctx) => {
    await h.cleanup(ctx)
    await Promise.all(transports.splice(0).map((t) => t.transport.close()))
  })

  /**
   * C and A (on a held transport) share `note.md`; A is then stopped, its
   * folder and state kept (restart it with `h.agent('a', …, a.root)`).
   */
  async function noteOnTwoDevices(): Promise<{ c: TestAgent; a: TestAgent; gated: HeldTransport }> {
    h = new AgentHarness()
    await h.startServer()
    const c = await h.agent('c', { 'note.md': 'base line\n' })
    const held = heldTransport(h.url, h.workspace)
    transports.push(held)
    const a = await h.agent('a', {}, { transport: held.transport })
    await until('a has the note', () => readText(a.root, 'note.md') === 'base line\n')
    await a.agent.whenIdle()
    await h.stopAgent(a)
    return { c, a, gated: held }
  }

  /** The kind `agent`'s workspace gives `note.md` (undefined before it knows the note). */
  const noteKind = (agent: TestAgent['agent']) => {
    const ws = agent.workspaceCrdt
    const id = ws?.findByPath('note.md')
    return id === undefined ? undefined : ws?.get(id)?.kind
  }

  /**
   * A waits for the note's body to push its text over C's binary version while
   * C turns the note back into text; `entrySeen`: whether A's workspace sees
   * C's new entry before the gate opens, or only C's body (its update travels
   * first) while the workspace update is held.
   */
  async function race(entrySeen: boolean): Promise<void> {
    const setup = await noteOnTwoDevices()
    const { c, gated } = setup
    let a = setup.a

    // C replaces the note with binary content while A is away.
    put(c.root, 'note.md', new Uint8Array([0, 1, 2, 3, 0, 255]))
    await until('the note is binary', () => noteKind(c.agent) === 'binary')
    await c.agent.whenIdle()
    // A's offline edit is newer: its text wins the binary conflict on reconnect.
    await new Promise((r) => setTimeout(r, 20))
    put(a.root, 'note.md', 'base line\nfrom A\n')

    gated.gateBodies()
    // (start() returns after the first pass, which is the one that waits)
    const restarted = h.agent('a', {}, { transport: gated.transport }, a.root)
    await until('a waits for the body before pushing its text', () => gated.bodyWaiters > 0)
    if (!entrySeen) gated.hold()
    // Meanwhile C turns the note back into text of its own.
    put(c.root, 'note.md', 'from C\n')
    await until('the note is text again', () => noteKind(c.agent) === 'text')
    await c.agent.whenIdle()
    await new Promise((r) => setTimeout(r, 300)) // C's writes reach A
    gated.openBodies()
    a = await restarted // its first pass, the push included, is done
    if (!entrySeen) gated.release()

    const tokens = (t: TestAgent) => JSON.stringify(Object.values(snapshot(t.root)))
    await until(
      'both texts survive on both devices',
      () =>
        [a, c].every((t) => tokens(t).includes('from A') && tokens(t).includes('from C')) &&
        JSON.stringify(snapshot(a.root)) === JSON.stringify(snapshot(c.root)),
      30_000,
    )
    await a.agent.whenIdle()
    await c.agent.whenIdle()
    expect(snapshot(a.root)).toEqual(snapshot(c.root))
    // one text is the note, the other beside it as a copy; neither is lost
    const texts = Object.values(snapshot(a.root))
    expect(texts).toContain('base line\nfrom A\n')
    expect(texts).toContain('from C\n')
    expect(readText(a.root, 'note.md')).toMatch(/^(from C\n|base line\nfrom A\n)$/)
    expect([...a.errors, ...c.errors]).toEqual([])
  }

  it('text written back over a binary version keeps the text another device wrote meanwhile', () =>
    race(true))

  it('a body that is ahead of its entry is kept as a copy, not folded over', () => race(false))

  // Chaos seed 46786858: a text edit decided on a text entry, then the body wait let
  // another device's binary version land; the push stamped the text's hash on the
  // binary version (kind binary, a blob that never exists) and the devices never agreed.
  it('a text edit that waited for its body does not stamp its hash on a binary version that landed meanwhile', async () => {
    const setup = await noteOnTwoDevices()
    const { c, gated } = setup
    let a = setup.a
    put(a.root, 'note.md', 'base line\nfrom A\n')

    gated.gateBodies()
    const restarted = h.agent('a', {}, { transport: gated.transport }, a.root)
    await until('a waits for the body before pushing its edit', () => gated.bodyWaiters > 0)
    // Meanwhile C replaces the note with binary content (newer than A's edit).
    const bin = new Uint8Array([0, 1, 2, 3, 0, 255])
    put(c.root, 'note.md', bin)
    await until('the note is binary on C', () => noteKind(c.agent) === 'binary')
    await c.agent.whenIdle()
    const live = h.agents.at(-1)!.agent // the restarting A (start() is still in its first pass)
    await until('A sees the binary version', () => noteKind(live) === 'binary')
    gated.openBodies()
    a = await restarted

    const hex = (t: TestAgent) =>
      Object.fromEntries(
        Object.entries(snapshot(t.root)).map(([k, v]) => [k, Buffer.from(v).toString('hex')]),
      )
    await until(
      'both devices agree',
      () => JSON.stringify(snapshot(a.root)) === JSON.stringify(snapshot(c.root)),
      30_000,
    )
    await a.agent.whenIdle()
    await c.agent.whenIdle()
    expect(hex(a)).toEqual(hex(c))
    // The binary version is the note; A's edit is beside it as a copy.
    expect(readFileSync(join(a.root, 'note.md'))).toEqual(Buffer.from(bin))
    expect(Object.values(snapshot(a.root))).toContain('base line\nfrom A\n')
    // Every entry's content is consistent: a binary entry's hash is its blob's.
    const ws = a.agent.workspaceCrdt!
    const entry = ws.get(ws.findByPath('note.md')!)!
    expect(entry.kind).toBe('binary')
    expect(entry.hash).toBe(createHash('sha256').update(bin).digest('hex'))
    expect([...a.errors, ...c.errors]).toEqual([])
  })
})
