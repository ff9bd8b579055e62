/**
 * Validation of untrusted Yjs updates (SPEC.md rules PR-U1…PR-U3). Yjs does not
 * check integrity and a failed `applyUpdate` is not rolled back, so every update
 * is first applied to a shadow copy of the document; only if that succeeds does
 * it touch the shared document (same state + same update ⇒ same result).
 */
import * as Y from 'yjs'
import type { Peer } from './peer.js'

/** Largest clock accepted from a client (no real session reaches 2^31 operations). */
const MAX_CLOCK = 2 ** 31 - 1
/** Yjs client ids are uint32. */
const MAX_CLIENT_ID = 2 ** 32 - 1

/**
 * Yjs integrates an item next to its origins without checking they share its
 * parent; a mutated origin then links lists of different types (or map keys)
 * together, which the encoder cannot reproduce: replicas silently diverge.
 * Checks every item the update introduced, proportional to the update.
 */
function consistent(
  doc: Y.Doc,
  meta: { from: Map<number, number>; to: Map<number, number> },
): boolean {
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
    }
  }
  return true
}

/** Why an update was refused. */
export type UpdateVerdict = 'ok' | 'invalid' | 'forged'

/** Owns the shadow document and the client-id ownership table of one room. */
export class UpdateGuard {
  private shadow: Y.Doc | undefined
  /** Yjs client id → the live connection that introduced it. */
  readonly owners = new Map<number, Peer>()

  constructor(private readonly doc: Y.Doc) {}

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

  /** Checks an update from `peer`; on 'ok' the caller applies it to the real document. */
  check(peer: Peer, update: Uint8Array): UpdateVerdict {
    let meta: { from: Map<number, number>; to: Map<number, number> }
    try {
      meta = Y.parseUpdateMeta(update)
    } catch {
      return 'invalid'
    }
    const store = this.doc.store
    const introduced: number[] = []
    for (const [client, to] of meta.to) {
      // Yjs's integer arithmetic is only sound below 2^31; larger clocks are garbage.
      if (to > MAX_CLOCK || client > MAX_CLIENT_ID) return 'invalid'
      if (to <= Y.getState(store, client)) continue
      const owner = this.owners.get(client)
      if (owner !== undefined && owner !== peer) return 'forged'
      introduced.push(client)
    }
    const shadow = this.shadowDoc()
    try {
      Y.applyUpdate(shadow, update)
    } catch {
      this.dropShadow()
      return 'invalid'
    }
    // An update whose dependencies the server lacks would sit in Yjs's pending
    // buffer, which is re-merged on every later update (a cheap DoS) and is where
    // replay stops being faithful. Honest clients never send one: they sync from
    // the server's state vector, over one ordered socket.
    if (
      shadow.store.pendingStructs !== null ||
      shadow.store.pendingDs !== null ||
      !consistent(shadow, meta)
    ) {
      this.dropShadow()
      return 'invalid'
    }
    for (const client of introduced) this.owners.set(client, peer)
    return 'ok'
  }

  private dropShadow(): void {
    this.shadow?.destroy()
    this.shadow = undefined
  }

  private shadowDoc(): Y.Doc {
    if (!this.shadow) {
      this.shadow = new Y.Doc({ gc: this.doc.gc })
      Y.applyUpdate(this.shadow, Y.encodeStateAsUpdate(this.doc))
    }
    return this.shadow
  }

  /** Frees the shadow copy. */
  destroy(): void {
    this.shadow?.destroy()
    this.shadow = undefined
    this.owners.clear()
  }
}
