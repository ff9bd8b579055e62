import { readFileSync } from 'node:fs'
import type { AgentContext } from './agent-context.js'
import { hashBytes } from './file-hash.js'

/** Meta key of the highest change-feed head this device has seen. */
const HEAD_KEY = 'feedHead'

/**
 * A server that lost its data (a wiped or restored-from-old data folder) is
 * told what it lost: the change feed's head only grows on a server that keeps
 * its data (PR-K2), so a head below the one this device recorded means the
 * server forgot updates. Open documents resync by themselves (PR-R2); the
 * bodies this device closed as idle and its blobs would be gone for every
 * device that never had them, so they are sent again.
 */
export class ServerReset {
  /** The head last written to the state store by this run. */
  private recorded = 0

  constructor(private readonly ctx: AgentContext) {}

  /** After the workspace synced on a (re)connect: compare the head, give back what was lost. */
  async check(): Promise<void> {
    const head = await this.head()
    if (head === undefined) return
    const seen = await this.ctx.store.getMeta<number>(HEAD_KEY)
    this.ctx.opts.logger.debug('feed head on connect', { head, seen })
    if (typeof seen === 'number' && head < seen) await this.giveBack(seen, head)
    await this.ctx.store.setMeta(HEAD_KEY, head)
    this.recorded = head
  }

  /**
   * Records the latest head this device's writes were acknowledged at, so a later
   * loss is seen. Only ever raises the record: a head read off a server that lost
   * its data is lower and changes nothing until `check()` has compared it.
   */
  async record(): Promise<void> {
    const { ctx } = this
    const head = ctx.transport.knownHead?.(ctx.opts.workspace)
    if (head === undefined || head <= this.recorded) return
    this.recorded = head
    const seen = await ctx.store.getMeta<number>(HEAD_KEY)
    if (typeof seen !== 'number' || head > seen) await ctx.store.setMeta(HEAD_KEY, head)
  }

  private async head(): Promise<number | undefined> {
    const { ctx } = this
    if (!ctx.transport.connected || !ctx.transport.feedHead) return undefined
    return ctx.transport.feedHead(ctx.opts.workspace).catch(() => undefined)
  }

  private async giveBack(seen: number, head: number): Promise<void> {
    const { ctx } = this
    const bases = ctx.store.allBases().filter((b) => {
      const e = ctx.ws.get(b.fileId)
      return e !== undefined && !e.deleted && e.kind === b.kind
    })
    const texts = bases.filter((b) => b.kind === 'text').map((b) => b.fileId)
    const blobs = bases.filter((b) => b.kind === 'binary' && ctx.ws.get(b.fileId)?.hash === b.hash)
    ctx.issue({
      path: '',
      kind: 'server-data-loss',
      message: `The server lost its data (its change feed is at ${head}, this device had seen ${seen}); giving it back this device's ${texts.length} notes and ${blobs.length} binary files. Check the server's data folder and backups.`,
    })
    // Subscribing a body exchanges state vectors: the server gets what it lacks.
    await ctx.bodies.openInBatches(texts)
    for (const b of blobs) {
      let bytes: Uint8Array
      try {
        bytes = readFileSync(ctx.writer.resolve(b.path))
      } catch {
        continue // gone or unreadable: the next pass over it decides
      }
      if (hashBytes(bytes) !== b.hash) continue // changed since: the next pass pushes it
      await ctx.transport.putBlob(ctx.opts.workspace, b.hash, bytes).catch(() => undefined)
    }
  }
}
