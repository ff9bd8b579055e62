import type { FileEntry } from '@skein/workspace'
import { bodyGen } from './body-docs.js'
import type { Body } from './body-docs.js'
import type { AgentContext } from './agent-context.js'
import { EMPTY_HASH, readDiskFile } from './disk-file.js'

/** How long a pass waits for a body to sync before renewing its subscription / retrying later. */
export const BODY_SYNC_WAIT_MS = 5_000

/** True when the body synced within `ms`. */
export async function syncedWithin(body: Pick<Body, 'session'>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const ok = await Promise.race([
    body.session.synced().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ])
  clearTimeout(timer)
  return ok
}

/** Opens a body and waits (bounded) for it to be usable: synced, right generation, seeded. */
export async function usableBody(
  ctx: AgentContext,
  entry: FileEntry,
  path: string,
): Promise<Body | undefined> {
  const body = await ctx.bodies.open(entry.id)
  if (ctx.transport.connected && !(await syncedWithin(body, BODY_SYNC_WAIT_MS))) {
    // Watchdog: a subscription left unanswered (seen after server restarts) is renewed once.
    ctx.bodies.resubscribe(entry.id)
    if (!(await syncedWithin(body, BODY_SYNC_WAIT_MS))) {
      ctx.requeue(entry.id)
      return undefined
    }
  }
  const gen = bodyGen(body)
  if (gen !== undefined && gen !== entry.gen) {
    ctx.bodies.setWaiting(entry.id, true)
    ctx.issue({
      path,
      kind: 'gen-mismatch',
      message: `The body of ${path} is generation ${gen} but the workspace says ${entry.gen}; not merging it (it would duplicate text). Waiting for the new body.`,
    })
    return undefined
  }
  if (
    gen === undefined &&
    body.text.length === 0 &&
    entry.hash !== undefined &&
    entry.hash !== EMPTY_HASH
  ) {
    // Synced and still empty on the server, and this device created it: the agent
    // was killed between creating the entry and sending its text (chaos seed 1078968329).
    if (entry.createdBy === ctx.device && ctx.online())
      return interruptedCreate(ctx, entry, path, body)
    // Not arrived yet: the body stays open, and the update that brings the text triggers another pass.
    ctx.bodies.setWaiting(entry.id, true)
    return undefined
  }
  ctx.bodies.setWaiting(entry.id, false)
  return body
}

/**
 * An entry this device created whose text never reached the server (nobody else
 * may seed it: other devices wait for it). The text comes from the file, which
 * is still here; without the file the entry is an empty shell nobody can fill,
 * and it is removed so no device waits for it forever.
 */
function interruptedCreate(
  ctx: AgentContext,
  entry: FileEntry,
  path: string,
  body: Body,
): Body | undefined {
  const disk = readDiskFile(ctx.opts.root, path, ctx.opts.maxTextBytes)
  if (disk?.text !== undefined) {
    ctx.opts.logger.info('seeding the text of a note whose creation was interrupted', { path })
    ctx.bodies.seed(body, entry.gen, disk.text)
    return body
  }
  if (!disk && ctx.store.getBase(entry.id) === undefined) {
    ctx.issue({
      path,
      kind: 'io',
      message: `${path} was created on this device but its text never left it (the agent stopped in between), and the file is gone; removed its empty entry so other devices stop waiting for it.`,
    })
    ctx.ws.delete(entry.id, ctx.device, ctx.origin)
  }
  return undefined
}
