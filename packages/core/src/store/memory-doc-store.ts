import { SkeinError } from '../errors.js'
import type { ChangePage, DocStore, StoredDoc } from './doc-store.js'
import { docWorkspace } from './doc-store.js'

interface Entry {
  updates: Uint8Array[]
  seq: number
}

/** A {@link DocStore} in memory: for tests, browsers and single-process demos. Not durable. */
export class MemoryDocStore implements DocStore {
  private readonly docs = new Map<string, Entry>()
  private readonly heads = new Map<string, number>()
  private closed = false

  private check(): void {
    if (this.closed) {
      throw new SkeinError(
        'CLOSED',
        'MemoryDocStore is closed: create a new store to keep using it.',
      )
    }
  }

  async load(doc: string): Promise<StoredDoc | undefined> {
    this.check()
    const e = this.docs.get(doc)
    return e ? { updates: [...e.updates], seq: e.seq } : undefined
  }

  async append(doc: string, update: Uint8Array): Promise<number> {
    this.check()
    const ws = docWorkspace(doc)
    const seq = (this.heads.get(ws) ?? 0) + 1
    this.heads.set(ws, seq)
    const e = this.docs.get(doc)
    if (e) {
      e.updates.push(update.slice())
      e.seq = seq
    } else this.docs.set(doc, { updates: [update.slice()], seq })
    return seq
  }

  async compact(doc: string, state: Uint8Array): Promise<void> {
    this.check()
    const e = this.docs.get(doc)
    if (e) e.updates = [state.slice()]
  }

  async list(workspace?: string): Promise<string[]> {
    this.check()
    const all = [...this.docs.keys()]
    return (workspace === undefined ? all : all.filter((d) => docWorkspace(d) === workspace)).sort()
  }

  async delete(doc: string): Promise<void> {
    this.check()
    this.docs.delete(doc)
  }

  async changes(workspace: string, since: number, limit = 1000): Promise<ChangePage> {
    this.check()
    const all = [...this.docs.entries()]
      .filter(([d, e]) => e.seq > since && docWorkspace(d) === workspace)
      .map(([doc, e]) => ({ doc, seq: e.seq }))
      .sort((a, b) => a.seq - b.seq)
    return {
      head: this.heads.get(workspace) ?? 0,
      changes: all.slice(0, limit),
      more: all.length > limit,
    }
  }

  async close(): Promise<void> {
    this.closed = true
  }
}
