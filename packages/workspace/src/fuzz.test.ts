import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createRng, fuzzIterations, fuzzSeed, type Rng } from '@skein/core/testing'
import type { DeviceId, FileId } from '@skein/core'
import { WorkspaceCrdt } from './workspace-crdt.js'
import type { WorkspaceEvent } from './events.js'
import { H, paths, replica, type Replica } from './test-helpers.js'

const NAMES = [
  'a',
  'b',
  'A',
  'Note.md',
  'note.md',
  'caf\u00e9',
  'cafe\u0301',
  '__proto__',
  'x (2)',
  'x',
  'lost+found',
]

interface Peer extends Replica {
  online: boolean
  inbox: Uint8Array[]
  events: number
  /** Shown ids as tracked from events alone (oracle for WS8). */
  shown: Set<string>
}

/** Applies one random operation on a peer; failures of validation (e.g. moving into own subtree) are expected. */
function randomOp(rng: Rng, p: Peer): string {
  const live = p.ws.list().map((e) => e.id)
  const folders = p.ws
    .list()
    .filter((e) => e.kind === 'folder')
    .map((e) => e.id)
  const any = (): FileId | undefined => (live.length ? rng.pick(live) : undefined)
  const name = () => rng.pick(NAMES)
  const path = () => Array.from({ length: 1 + rng.int(3) }, name).join('/')
  const op = rng.int(8)
  try {
    switch (op) {
      case 0:
      case 1:
        p.ws.createFile(path(), {
          kind: 'text',
          hash: H(String(rng.int(9))),
          size: rng.int(100),
          mtime: rng.int(1e6),
        })
        return 'createFile'
      case 2:
        p.ws.createFolder(path())
        return 'createFolder'
      case 3: {
        const id = any()
        if (id) p.ws.rename(id, name())
        return 'rename'
      }
      case 4: {
        const id = any()
        if (id) p.ws.move(id, rng.chance(0.3) || folders.length === 0 ? '' : rng.pick(folders))
        return 'move'
      }
      case 5: {
        const id = any()
        if (id) p.ws.delete(id)
        return 'delete'
      }
      case 6: {
        const dead = p.ws.list({ includeDeleted: true }).filter((e) => e.deleted)
        if (dead.length) p.ws.restore(rng.pick(dead).id)
        return 'restore'
      }
      default: {
        const id = any()
        if (id && p.ws.get(id)?.kind !== 'folder')
          p.ws.updateContent(id, {
            hash: H(String(rng.int(9))),
            size: rng.int(100),
            mtime: rng.int(1e6),
          })
        return 'updateContent'
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'CONFLICT' || code === 'INVALID_INPUT' || code === 'NOT_FOUND') return 'refused'
    throw e
  }
}

/** One seeded history: N peers, random ops, random delivery, disconnects; then full delivery. */
export function runHistory(seed: number, steps: number): void {
  const rng = createRng(seed)
  const n = 3 + rng.int(3)
  const peers: Peer[] = Array.from({ length: n }, (_, i) => ({
    ...replica(`D${i}`, i + 1),
    online: true,
    inbox: [],
    events: 0,
    shown: new Set<string>(),
  }))
  for (const p of peers) {
    p.ws.observe((evs: WorkspaceEvent[]) => {
      p.events += evs.length
      for (const e of evs) {
        if (e.type === 'created' || e.type === 'restored') p.shown.add(e.id)
        else if (e.type === 'deleted') p.shown.delete(e.id)
      }
    })
    p.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'remote' || !p.online) return
      for (const q of peers) if (q !== p) q.inbox.push(u)
    })
  }
  const deliver = (q: Peer) => {
    if (!q.online || q.inbox.length === 0) return
    const i = rng.int(q.inbox.length)
    const [u] = q.inbox.splice(i, 1)
    Y.applyUpdate(q.doc, u as Uint8Array, 'remote')
  }
  for (let s = 0; s < steps; s++) {
    const p = rng.pick(peers)
    const r = rng.next()
    if (r < 0.5) randomOp(rng, p)
    else if (r < 0.9) deliver(rng.pick(peers))
    else if (r < 0.95) p.online = !p.online
    else {
      // Reconnect-style resync through state vectors.
      const q = rng.pick(peers)
      if (p !== q && p.online && q.online)
        Y.applyUpdate(q.doc, Y.encodeStateAsUpdate(p.doc, Y.encodeStateVector(q.doc)), 'remote')
    }
    // The incremental index always equals a rebuild (WS3).
    if (s % 25 === 0) {
      const fresh = new WorkspaceCrdt(p.doc, { device: 'check' as DeviceId })
      expect(paths({ doc: p.doc, ws: fresh }), `seed ${seed} step ${s}`).toEqual(paths(p))
      fresh.destroy()
    }
  }
  for (const p of peers) p.online = true
  for (const a of peers)
    for (const b of peers)
      if (a !== b)
        Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), 'remote')
  const first = paths(peers[0] as Peer)
  for (const p of peers) {
    expect(paths(p), `seed ${seed}: replicas diverge`).toEqual(first)
    const fresh = new WorkspaceCrdt(p.doc, { device: 'check' as DeviceId })
    expect(paths({ doc: p.doc, ws: fresh }), `seed ${seed}: incremental != rebuild`).toEqual(first)
    // No live entry is lost: every non-deleted valid entry has a path.
    for (const e of p.ws.list())
      expect(p.ws.getPath(e.id), `seed ${seed}: live entry ${e.id} has no path`).toBeDefined()
    // Events alone reproduce which entries are shown (WS8).
    expect([...p.shown].sort(), `seed ${seed}: events disagree with the tree`).toEqual(
      first.map(([, id]) => id).sort(),
    )
    // Paths are unique under the collision key.
    const keys = new Set(first.map(([path]) => path.normalize('NFC').toLowerCase()))
    expect(keys.size).toBe(first.length)
  }
}

describe('convergence fuzz (WS3, WS4, WS5, WS6)', () => {
  it('replicas converge to identical path maps with no live entry lost', () => {
    const seed = fuzzSeed('workspace convergence')
    const histories = fuzzIterations(15, 1000)
    for (let h = 0; h < histories; h++) runHistory(seed + h, 300)
  })

  // Pinned seeds: regressions found while building the view.
  it.each([1, 2, 3, 12345])('pinned seed %i', (seed) => runHistory(seed, 300))
})
