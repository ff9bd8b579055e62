/**
 * Validation of untrusted Yjs updates (SPEC.md rules PR-U1…PR-U3). Yjs does not
 * check integrity and a failed `applyUpdate` is not rolled back, so an update is
 * checked in two steps around its (synchronous, unobserved) application to the
 * room's document: {@link UpdateGuard.precheck} before — decodable, sane clocks,
 * no foreign client ids — and {@link UpdateGuard.verify} after — nothing left
 * pending, no item linked to neighbours of another parent. On any failure the
 * room restores the document from its {@link RestorePoint} before anything of
 * the update is stored, sent or observed.
 */
import * as Y from 'yjs'
import type { Peer } from './peer.js'

/** Largest clock accepted from a client (no real session reaches 2^31 operations). */
const MAX_CLOCK = 2 ** 31 - 1
/** Yjs client ids are uint32. */
const MAX_CLIENT_ID = 2 ** 32 - 1

/** Most list steps {@link consistent} walks per update to find items' origins (a bound on hostile origins). */
const PLACEMENT_BUDGET = 200_000

/** True if `item` holds the operation `id`. */
function holds(item: Y.Item, id: Y.ID): boolean {
  return (
    item.id.client === id.client &&
    item.id.clock <= id.clock &&
    id.clock < item.id.clock + item.length
  )
}

/** Walks a list from `from` (inclusive) towards `side` until an item holds `id`; null if the end came first. */
function find(from: Y.Item | null, id: Y.ID, side: 'left' | 'right', budget: { steps: number }) {
  let n = from
  while (n !== null && !holds(n, id)) {
    if (--budget.steps < 0) return from
    n = n[side]
  }
  return n
}

/**
 * Yjs integrates an item next to its origins without checking they make sense.
 * A mutated origin can link lists of different types (or map keys) together,
 * or place an item where its creator could not have seen it: the live document
 * then holds an order that re-encoding cannot reproduce (it depends on the
 * order items are integrated in), so the store, a restore and every new replica
 * silently diverge from it. Checks every item the update introduced against
 * what its creator must have seen — its left origin O immediately left of its
 * right origin R:
 * - its neighbours share its parent and map key;
 * - O is somewhere to its left and R somewhere to its right;
 * - R's own left origin is O or left of O, and O's own right origin is R or
 *   right of R (the two were adjacent, so nothing the creator knew sits
 *   between them; with O the list start, R must have been first).
 * The walks cover only items concurrent with it (usually none); past
 * {@link PLACEMENT_BUDGET} steps an update is let through on the parent checks
 * alone rather than made a quadratic cost.
 */
function consistent(
  doc: Y.Doc,
  meta: { from: Map<number, number>; to: Map<number, number> },
): boolean {
  const budget = { steps: PLACEMENT_BUDGET }
  for (const [client, to] of meta.to) {
    const structs = doc.store.clients.get(client)
    if (!structs) continue
    const from = meta.from.get(client) ?? 0
    let i = Y.findIndexSS(structs, from)
    for (; i < structs.length; i++) {
      const s = structs[i]!
      if (s.id.clock >= to) break
      if (!(s instanceof Y.Item)) continue
      if (!(s.parent instanceof Y.AbstractType)) return false
      for (const n of [s.left, s.right]) {
        if (n !== null && (n.parent !== s.parent || n.parentSub !== s.parentSub)) return false
      }
      const o = s.origin === null ? null : find(s.left, s.origin, 'left', budget)
      const r = s.rightOrigin === null ? null : find(s.right, s.rightOrigin, 'right', budget)
      if ((s.origin !== null && o === null) || (s.rightOrigin !== null && r === null)) return false
      if (r !== null && s.rightOrigin !== null) {
        // R's left origin (inside a run: the operation just before it)
        const rOrigin =
          s.rightOrigin.clock > r.id.clock
            ? Y.createID(r.id.client, s.rightOrigin.clock - 1)
            : r.origin
        if (rOrigin !== null && (o === null || find(o, rOrigin, 'left', budget) === null))
          return false
      }
      if (o !== null && o.rightOrigin !== null) {
        if (r === null || find(r, o.rightOrigin, 'right', budget) === null) return false
      }
    }
  }
  return true
}

/** Why an update was refused. */
export type UpdateVerdict = 'ok' | 'invalid' | 'forged'

/** What {@link UpdateGuard.precheck} learned about an update. */
export interface Precheck {
  verdict: UpdateVerdict
  /** Clock ranges per client (for {@link UpdateGuard.verify}). */
  meta: { from: Map<number, number>; to: Map<number, number> }
  /** Client ids the update introduces (claimed by {@link UpdateGuard.commit}). */
  introduced: number[]
}

const REFUSED = { from: new Map<number, number>(), to: new Map<number, number>() }

/** Owns the client-id ownership table of one room and checks its updates. */
export class UpdateGuard {
  /** Yjs client id → the live connection that introduced it. */
  readonly owners = new Map<number, Peer>()

  /** True if `peer` owns `client` or may claim it (nobody live owns it); claims it. */
  claim(peer: Peer, client: number): boolean {
    const owner = this.owners.get(client)
    if (owner === undefined) {
      this.owners.set(client, peer)
      return true
    }
    return owner === peer
  }

  /** Releases every client id `peer` owns (it disconnected or left the room). */
  release(peer: Peer): void {
    for (const [client, owner] of this.owners) if (owner === peer) this.owners.delete(client)
  }

  /** Checks an update from `peer` against `doc` before it is applied (PR-U1 clocks, PR-U2). */
  precheck(doc: Y.Doc, peer: Peer, update: Uint8Array): Precheck {
    let meta: Precheck['meta']
    try {
      meta = Y.parseUpdateMeta(update)
    } catch {
      return { verdict: 'invalid', meta: REFUSED, introduced: [] }
    }
    const introduced: number[] = []
    for (const [client, to] of meta.to) {
      // Yjs's integer arithmetic is only sound below 2^31; larger clocks are garbage.
      if (to > MAX_CLOCK || client > MAX_CLIENT_ID)
        return { verdict: 'invalid', meta, introduced: [] }
      if (to <= Y.getState(doc.store, client)) continue
      const owner = this.owners.get(client)
      if (owner !== undefined && owner !== peer) return { verdict: 'forged', meta, introduced: [] }
      introduced.push(client)
    }
    return { verdict: 'ok', meta, introduced }
  }

  /**
   * Checks `doc` right after the update was applied to it. An update whose
   * dependencies the server lacks would sit in Yjs's pending buffer, which is
   * re-merged on every later update (a cheap DoS) and is where replay stops
   * being faithful. Honest clients never send one: they sync from the server's
   * state vector, over one ordered socket.
   */
  verify(doc: Y.Doc, check: Precheck): boolean {
    return (
      doc.store.pendingStructs === null &&
      doc.store.pendingDs === null &&
      consistent(doc, check.meta)
    )
  }

  /** The update was accepted: its author now owns the client ids it introduced. */
  commit(peer: Peer, check: Precheck): void {
    for (const client of check.introduced) this.owners.set(client, peer)
  }

  /** Forgets every owner (the room unloads). */
  destroy(): void {
    this.owners.clear()
  }
}
