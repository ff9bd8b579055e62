/**
 * Body generations (DESIGN §3): a body re-seeded under a new `gen` — here the
 * server lost its data and another device restored the workspace and seeded
 * the note again — is never merged with a device's copy of the old
 * generation (that is the "text appears twice" failure). The old body is
 * dropped and the new one fetched; the device's own text is kept, as a
 * conflict copy when it differs.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeviceId, FileId } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import { isConflictCopyName } from '@skein/agent'
import { WorkspaceCrdt } from '@skein/workspace'
import { uploadBlob } from '@skein/client'
import { AgentHarness, remoteDevice, snapshot, until } from './helpers/agent-harness.js'
import { newClient, waitFor } from './helpers/server-helpers.js'

const OLD = 'line 1\nline 2\n'
const EDITED_ON_A = 'line 1\nline 2\nwritten on A while offline\n'
const RESEEDED = 'restored line 1\nline 2\n'

/** Restores `workspaceState` on the server at `url`, bumps the gen of `id` and seeds its body with `text`. */
async function reseed(
  url: string,
  workspace: string,
  workspaceState: Uint8Array,
  id: FileId,
  text: string,
): Promise<void> {
  const client = newClient(url)
  try {
    const doc = new Y.Doc()
    const body = new Y.Doc()
    const handles = [client.open(workspace, doc), client.open(`${workspace}/${id}`, body)]
    await Promise.all(handles.map((h) => h.whenSynced))
    // Written once subscribed, so the client tracks them until the server acknowledges them.
    Y.applyUpdate(doc, workspaceState)
    const ws = new WorkspaceCrdt(doc, { device: 'restorer' as DeviceId })
    const gen = ws.bumpGen(id)
    ws.updateContent(id, { hash: sha256HexSync(text), size: text.length, mtime: Date.now() })
    body.transact(() => {
      body.getMap('meta').set('gen', gen)
      body.getText('body').insert(0, text)
    })
    await waitFor(() => handles.every((h) => h.unsyncedChanges === 0), 'the restore to be stored')
  } finally {
    client.close()
  }
}

/** The stored text of a body on the server at `url`. */
async function serverText(url: string, room: string): Promise<string> {
  const client = newClient(url)
  try {
    const doc = new Y.Doc()
    await client.open(room, doc).whenSynced
    return doc.getText('body').toJSON()
  } finally {
    client.close()
  }
}

describe('a body re-seeded under a new generation', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('is fetched anew, never merged with the old one: no doubled text, local text kept as a copy', async () => {
    h = new AgentHarness()
    await h.startServer()
    const a = await h.agent('a', { 'n.md': OLD })
    const b = await h.agent('b')
    await until('n.md on B', () => snapshot(b.root)['n.md'] === OLD)
    const id = a.agent.workspaceCrdt!.findByPath('n.md')!
    const state = Y.encodeStateAsUpdate(a.agent.workspaceCrdt!.doc)
    await h.stopServer()
    await until(
      'both offline',
      () => a.agent.status().connection === 'offline' && b.agent.status().connection === 'offline',
    )
    writeFileSync(join(a.root, 'n.md'), EDITED_ON_A)
    await until('pending on A', () => a.agent.status().pendingFiles === 1)
    // The server loses everything; another device restores the workspace and seeds the note again.
    h.wipeServerData()
    await h.offstage((url) => reseed(url, h.workspace, state, id, RESEEDED))
    await h.startServer()

    const texts = (root: string) => Object.values(snapshot(root))
    await until(
      'the re-seeded note and the offline edit on both',
      () =>
        [a, b].every(
          (t) => snapshot(t.root)['n.md'] === RESEEDED && texts(t.root).includes(EDITED_ON_A),
        ) && JSON.stringify(snapshot(a.root)) === JSON.stringify(snapshot(b.root)),
    ).catch(async (err: Error) => {
      const server = await serverText(h.url, `${h.workspace}/${id}`)
      const entries = [a, b].map((t) => t.agent.workspaceCrdt!.get(id))
      throw new Error(
        `${err.message}: ${JSON.stringify({ folders: [snapshot(a.root), snapshot(b.root)], server, entries })}`,
      )
    })
    for (const t of [a, b]) await t.agent.whenIdle()
    const snap = snapshot(a.root)
    expect(snapshot(b.root)).toEqual(snap)
    // Never doubled: no file holds a line of the note twice.
    for (const text of Object.values(snap))
      expect(text.split('\n').filter((l) => l === 'line 2')).toHaveLength(
        text.includes('line 2') ? 1 : 0,
      )
    // Each device's text is kept as a copy where it differs from the new generation:
    // A's offline edit, and B's copy of the old text (B cannot tell whether it was newer).
    const copies = Object.keys(snap).filter((p) => isConflictCopyName(p))
    expect(copies.map((p) => snap[p]).sort()).toEqual([OLD, EDITED_ON_A].sort())
    expect(snap['n.md']).toBe(RESEEDED)
    expect(await serverText(h.url, `${h.workspace}/${id}`)).toBe(RESEEDED)
    expect(a.agent.workspaceCrdt!.get(id)?.gen).toBe(2)
    expect([...a.errors, ...b.errors]).toEqual([])
  })
})

describe('a server that lost its data', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('gets every note and blob back from the devices, closed bodies included: a new device downloads all', async () => {
    h = new AgentHarness()
    await h.startServer()
    const files: Record<string, string | Uint8Array> = { 'img.bin': Buffer.from([1, 0, 2, 0]) }
    for (let i = 0; i < 20; i++) files[`d/n${i}.md`] = `note ${i}\n`
    // Bodies close after 200 ms idle: what a device holds after a quiet while.
    const a = await h.agent('a', files, { bodyIdleMs: 200 })
    await until('bodies closed on A', () => a.agent.status().openBodies === 0)
    await a.agent.whenIdle()
    await h.stopServer()
    await until('A offline', () => a.agent.status().connection === 'offline')
    h.wipeServerData()
    await h.startServer()
    await until('A online', () => a.agent.status().connection === 'online')
    const c = await h.agent('c', {}, { bodyIdleMs: 200 })
    const want = snapshot(a.root)
    await until(
      'everything on the new device',
      () => JSON.stringify(snapshot(c.root)) === JSON.stringify(want),
      30_000,
    )
    expect(a.issues.map((i) => i.message).join('\n')).toContain('lost its data')
    expect([...a.errors, ...c.errors]).toEqual([])
  }, 60_000)
})

describe('content that reaches the server after its entry', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('is written once it arrives, however long the device sat idle: a note and a binary file', async () => {
    h = new AgentHarness()
    await h.startServer()
    const text = 'written by a device that is slow to send its text\n'
    const bytes = new Uint8Array([0, 1, 2, 3, 255, 0, 7])
    const blobHash = sha256HexSync(bytes)
    // Another device's entries are on the server; their content is not (yet):
    // the device that has it is giving it back after a server lost its data.
    const slow = await remoteDevice(h.url, h.workspace, 'slow')
    try {
      const meta = { size: text.length, mtime: Date.now() }
      const id = slow.ws.createFile('late.md', { kind: 'text', hash: sha256HexSync(text), ...meta })
      slow.ws.createFile('late.bin', { kind: 'binary', hash: blobHash, blob: blobHash, ...meta })
      await slow.stored('the entries to be stored')
      // The new device syncs the entries, finds no content, and its bodies sit idle
      // for three idle periods (it used to close the note's body and never look again,
      // and never ask for the blob again).
      const c = await h.agent('c', {}, { bodyIdleMs: 200 })
      await c.agent.whenIdle()
      await new Promise((r) => setTimeout(r, 600))
      expect(Object.keys(snapshot(c.root))).toEqual([])
      expect(c.issues.map((i) => i.kind)).toContain('blob-missing')
      // The content arrives.
      await slow.seed(id, text)
      await uploadBlob(
        { url: h.url.replace('ws:', 'http:'), workspace: h.workspace, hash: blobHash },
        bytes,
      )
      await until('the late content on C', () => {
        const snap = snapshot(c.root)
        return snap['late.md'] === text && snap['late.bin'] !== undefined
      })
      expect(readFileSync(join(c.root, 'late.bin'))).toEqual(Buffer.from(bytes))
      expect([...c.errors]).toEqual([])
    } finally {
      slow.close()
    }
  })
})

describe('a note deleted before its text reached the server', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('no longer holds the body open that waited for the text', async () => {
    h = new AgentHarness()
    await h.startServer()
    const text = 'never sent\n'
    const slow = await remoteDevice(h.url, h.workspace, 'slow')
    try {
      const id = slow.ws.createFile('gone.md', {
        kind: 'text',
        hash: sha256HexSync(text),
        size: text.length,
        mtime: Date.now(),
      })
      await slow.stored('the entry to be stored')
      const c = await h.agent('c', {}, { bodyIdleMs: 200 })
      await c.agent.whenIdle()
      await new Promise((r) => setTimeout(r, 600))
      // Waiting for the text: the one body stays open however long it is idle.
      expect(c.agent.status().openBodies).toBe(1)
      slow.ws.delete(id, 'slow' as DeviceId)
      await slow.stored('the delete to be stored')
      await until('the body closed on C', () => c.agent.status().openBodies === 0)
      expect(snapshot(c.root)).toEqual({})
      expect([...c.errors]).toEqual([])
    } finally {
      slow.close()
    }
  })
})
