import type { FileEntry } from '@skein/workspace'
import { bodyGen } from './body-docs.js'
import type { Body } from './body-docs.js'
import type { AgentContext } from './agent-context.js'
import { EMPTY_HASH } from './disk-file.js'

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
  )
    return undefined // not arrived yet: a remote update to the body triggers another pass
  return body
}
