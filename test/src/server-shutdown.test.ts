/**
 * Graceful shutdown (SPEC.md PR-O2): stop accepting, close connections with
 * 1001, flush every accepted write, close the store — bounded by
 * `shutdownTimeoutMs` — in-process with a gated store, and on SIGTERM of a
 * server child process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocStore, StoredDoc } from '@skein/core'
import type { SyncClient } from '@skein/client'
import type { SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { RawSocket, newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'
import { spawnServer } from './helpers/server-process.js'
import type { ChildServer } from './helpers/server-process.js'

/** Fault injection around a real store: appends wait for `open()`; records the order of events. */
class GatedStore implements DocStore {
  readonly events: string[] = []
  private gate: Promise<void> | undefined
  private openGate: () => void = () => undefined
  /** Resolves when an append is waiting at the gate. */
  waiting: Promise<void>
  private onWaiting!: () => void

  constructor(private readonly inner: DocStore) {
    this.waiting = new Promise((r) => (this.onWaiting = r))
  }

  close_(): void {
    this.gate = new Promise((r) => (this.openGate = r))
  }

  open(): void {
    this.gate = undefined
    this.openGate()
  }

  async append(doc: string, update: Uint8Array): Promise<number> {
    if (this.gate) {
      this.onWaiting()
      await this.gate
    }
    const seq = await this.inner.append(doc, update)
    this.events.push('append')
    return seq
  }

  async compact(doc: string, state: Uint8Array): Promise<void> {
    await this.inner.compact(doc, state)
    this.events.push('compact')
  }

  async close(): Promise<void> {
    this.events.push('close')
    await this.inner.close()
  }

  load = (d: string): Promise<StoredDoc | undefined> => this.inner.load(d)
  list = (w?: string): Promise<string[]> => this.inner.list(w)
  delete = (d: string): Promise<void> => this.inner.delete(d)
  changes: DocStore['changes'] = (w, s, l) => this.inner.changes(w, s, l)
}

/** The text of `doc` as stored in the LevelDB at `dir` (opened after the server let go of it). */
async function storedText(dir: string, doc: string): Promise<{ text: string }> {
  const store = new LevelDocStore(dir)
  try {
    const stored = await store.load(doc)
    const d = new Y.Doc()
    for (const u of stored?.updates ?? []) Y.applyUpdate(d, u)
    return { text: textOf(d) }
  } finally {
    await store.close()
  }
}

describe('graceful shutdown (PR-O2)', () => {
  let dir = ''
  let server: SyncServer | undefined
  let child: ChildServer | undefined
  const clients: SyncClient[] = []
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close())
    await server?.close()
    server = undefined
    if (child && child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGKILL')
      await child.exited
    }
    child = undefined
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('PR-O2 close() refuses new connections at once, flushes a write still being stored, then closes the store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-shutdown-'))
    const store = new GatedStore(new LevelDocStore(dir))
    server = await startServer({ store })
    const url = server.url
    const client = newClient(url)
    clients.push(client)
    const doc = new Y.Doc()
    const h = client.open('ws1/g', doc)
    await h.whenSynced
    store.close_()
    doc.getText('t').insert(0, 'in flight')
    await store.waiting // the server accepted the write; its append is held

    const closing = server.close()
    expect(await new RawSocket(`${url}/_skein/v1`).opened.catch((e: Error) => e.message)).toMatch(
      /ECONNREFUSED|HTTP 503/,
    )
    await waitFor(() => h.status === 'offline', 'the client told to go away (1001)')
    expect(store.events).not.toContain('close') // still flushing
    store.open()
    await closing
    server = undefined
    expect(store.events.indexOf('append')).toBeGreaterThanOrEqual(0)
    expect(store.events.at(-1)).toBe('close')
    expect(store.events.indexOf('append')).toBeLessThan(store.events.indexOf('close'))
    expect((await storedText(dir, 'ws1/g')).text).toBe('in flight')
  })

  it('PR-O2 close() gives up on a store that never finishes after shutdownTimeoutMs and still closes it', async () => {
    const store = new GatedStore(new (await import('@skein/core')).MemoryDocStore())
    server = await startServer({ store, shutdownTimeoutMs: 200 })
    const client = newClient(server.url)
    clients.push(client)
    const doc = new Y.Doc()
    const h = client.open('ws1/hung', doc)
    await h.whenSynced
    store.close_()
    doc.getText('t').insert(0, 'never stored')
    await store.waiting
    await server.close() // resolves although the append never does
    server = undefined
    expect(store.events).toEqual(['close'])
  })

  it('PR-O2 on SIGTERM a server child stops, flushes and exits 0; after a restart every acked and every relayed update is there', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-sigterm-'))
    child = await spawnServer(dir)
    const url = `ws://127.0.0.1:${child.port}`
    const writer = newClient(url)
    const observer = newClient(url)
    clients.push(writer, observer)
    const doc = new Y.Doc()
    const seen = new Y.Doc()
    const wh = writer.open('ws1/t', doc)
    const oh = observer.open('ws1/t', seen)
    await Promise.all([wh.whenSynced, oh.whenSynced])
    // one update per piece, so the first (written − unacked) pieces are the acked ones
    const pieces: string[] = []
    let ackedCount = 0
    wh.onStatus(() => (ackedCount = Math.max(ackedCount, pieces.length - wh.unsyncedChanges)))
    const t = doc.getText('t')
    // stream writes; SIGTERM lands while some are received but not yet stored or acked
    const writing = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        pieces.push(`${pieces.length};`)
        t.insert(t.length, pieces.at(-1)!)
      }
    }, 2)
    await waitFor(() => ackedCount > 100 && textOf(seen).length > 800, 'writes flowing')
    child.child.kill('SIGTERM')
    const code = await new Promise<number | null>((r) => child!.child.once('exit', (c) => r(c)))
    clearInterval(writing)
    expect(code).toBe(0) // closeOnSignals ran to the end (a signal death has no exit code)
    await waitFor(() => oh.status === 'offline', 'observer offline')
    const relayed = textOf(seen) // the server accepted everything it relayed
    const acked = pieces.slice(0, ackedCount).join('')

    const stored = await storedText(dir, 'ws1/t')
    expect(stored.text.startsWith(acked)).toBe(true)
    expect(stored.text.startsWith(relayed)).toBe(true)
    expect(textOf(doc).startsWith(stored.text)).toBe(true)

    child = await spawnServer(dir, child.port)
    const fresh = newClient(url)
    clients.push(fresh)
    const copy = new Y.Doc()
    await fresh.open('ws1/t', copy).whenSynced
    expect(textOf(copy).startsWith(stored.text)).toBe(true)
    // the writer reconnects by itself and the rest of its writes arrive too
    await waitFor(() => wh.unsyncedChanges === 0 && textOf(copy) === textOf(doc), 'catch-up')
  })
})
