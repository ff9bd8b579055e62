/**
 * Bugs the chaos harness found, each pinned as a small deterministic test
 * (the seed that found it is named; replays are timing-dependent, these are not).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DeviceId } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import { WorkspaceCrdt } from '@skein/workspace'
import { AgentHarness, readText, remoteDevice, until } from '../helpers/agent-harness.js'
import { newClient, waitFor } from '../helpers/server-helpers.js'

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

  // seed 1078968329: an agent killed between creating a note's entry and sending its text
  // left an entry every device waited for forever ("in crdt, missing in folders").
  it('a note whose creation was interrupted is completed from the file, or removed when the file is gone', async () => {
    h = new AgentHarness()
    await h.startServer()
    const text = 'written before the crash\n'
    // What the killed agent left on the server: entries by device a, no body text.
    const a0 = await remoteDevice(h.url, h.workspace, 'a')
    try {
      const meta = { kind: 'text' as const, size: 9, mtime: Date.now() }
      a0.ws.createFile('kept.md', { ...meta, hash: sha256HexSync(text) })
      a0.ws.createFile('gone.md', { ...meta, hash: sha256HexSync('lost\n') })
      await a0.stored('the entries to be stored')
    } finally {
      a0.close()
    }
    // Device a restarts with the one file it still has.
    const a = await h.agent('a', { 'kept.md': text })
    const b = await h.agent('b')
    await until('the interrupted note on B', () => readText(b.root, 'kept.md') === text)
    await until('the empty entry removed', () => {
      const e = b.agent
        .workspaceCrdt!.list({ includeDeleted: true })
        .find((x) => x.name === 'gone.md')
      return e?.deleted === true
    })
    expect(readText(b.root, 'gone.md')).toBeUndefined()
    expect(a.issues.map((i) => i.message).join('\n')).toContain(
      'gone.md was created on this device',
    )
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  // seed 1476710841: an edit folded just before a concurrent delete arrived (disk = base on
  // the editing device) was trashed: the deleting device had not recorded which text it saw.
  it('an edit made concurrently with a delete wins even when the deleter left no trace in the body', async () => {
    h = new AgentHarness()
    await h.startServer()
    const b = await h.agent('b', { 'n.md': 'line 1\n' })
    await until(
      'n.md in the workspace',
      () => b.agent.workspaceCrdt?.findByPath('n.md') !== undefined,
    )
    await b.agent.whenIdle()
    // Another device syncs the workspace, goes offline and deletes the note there.
    const doc = new Y.Doc()
    const first = newClient(h.url)
    await first.open(h.workspace, doc).whenSynced
    first.close()
    const ws = new WorkspaceCrdt(doc, { device: 'deleter' as DeviceId })
    const id = ws.findByPath('n.md')!
    ws.delete(id)
    // Meanwhile B edits the note, online: folded, base and disk agree.
    writeFileSync(join(b.root, 'n.md'), 'line 1\nedited on B\n')
    await until('the edit in the workspace', () => b.agent.workspaceCrdt?.get(id)?.size === 19)
    await b.agent.whenIdle()
    // The deleter comes back: its delete meets B's edit.
    const again = newClient(h.url)
    try {
      const handle = again.open(h.workspace, doc)
      await handle.whenSynced
      await waitFor(() => handle.unsyncedChanges === 0, 'the delete to be stored')
      await until(
        'the delete seen by B',
        () =>
          b.agent.workspaceCrdt?.get(id)?.deletedHash !== undefined ||
          b.agent.workspaceCrdt?.get(id)?.deleted === false,
      )
      await b.agent.whenIdle()
      await until('the edit restored', () => b.agent.workspaceCrdt?.get(id)?.deleted === false)
      expect(readText(b.root, 'n.md')).toBe('line 1\nedited on B\n')
      await until('the restore reaches the deleter', () => ws.get(id)?.deleted === false)
    } finally {
      again.close()
    }
  })
})
