/**
 * Server-side awareness for one room without y-protocols' `Awareness` (which
 * runs a timer per instance). Enforces SPEC.md rules PR-A1…PR-A3: a connection
 * may only set or remove the states of client ids it owns; states are size-capped
 * and must be JSON; a closing connection's states are removed for everyone.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Peer } from './peer.js'

interface Entry {
  clock: number
  json: string
  owner: Peer | undefined
}

/** Outcome of {@link AwarenessRegistry.apply}. */
export type AwarenessResult =
  { ok: true; forward: Uint8Array | undefined } | { ok: false; reason: 'malformed' | 'too-large' }

/** Awareness states of one room. */
export class AwarenessRegistry {
  private readonly entries = new Map<number, Entry>()

  constructor(private readonly maxStateBytes: number) {}

  /**
   * Applies an awareness update from `peer`. `owns(client)` says whether `peer`
   * may speak for a client id (claiming it if free). Returns the accepted part,
   * re-encoded, to forward to the other peers.
   */
  apply(peer: Peer, update: Uint8Array, owns: (client: number) => boolean): AwarenessResult {
    const accepted: [number, number, string][] = []
    try {
      const d = decoding.createDecoder(update)
      const n = decoding.readVarUint(d)
      if (n > 10_000) return { ok: false, reason: 'malformed' }
      for (let i = 0; i < n; i++) {
        const client = decoding.readVarUint(d)
        const clock = decoding.readVarUint(d)
        if (decoding.peekVarUint(d) > this.maxStateBytes * 4)
          return { ok: false, reason: 'too-large' }
        const json = decoding.readVarString(d)
        if (json.length > this.maxStateBytes) return { ok: false, reason: 'too-large' }
        JSON.parse(json)
        const prev = this.entries.get(client)
        if (prev && prev.owner !== undefined && prev.owner !== peer) continue
        const current = prev?.clock ?? 0
        const isRemoval = json === 'null'
        const live = prev !== undefined && prev.json !== 'null'
        if (!(current < clock || (current === clock && isRemoval && live))) continue
        if (!owns(client)) continue
        this.entries.set(client, { clock, json, owner: peer })
        accepted.push([client, clock, json])
      }
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    return { ok: true, forward: accepted.length ? encodeEntries(accepted) : undefined }
  }

  /** Removes every state `peer` owns; returns the removal update for the others. */
  removePeer(peer: Peer): Uint8Array | undefined {
    const removed: [number, number, string][] = []
    for (const [client, e] of this.entries) {
      if (e.owner !== peer) continue
      if (e.json !== 'null') removed.push([client, e.clock + 1, 'null'])
      this.entries.set(client, { clock: e.clock + 1, json: 'null', owner: undefined })
    }
    return removed.length ? encodeEntries(removed) : undefined
  }

  /** All live states, for a new subscriber; undefined when there are none. */
  encodeAll(): Uint8Array | undefined {
    const live: [number, number, string][] = []
    for (const [client, e] of this.entries)
      if (e.json !== 'null') live.push([client, e.clock, e.json])
    return live.length ? encodeEntries(live) : undefined
  }
}

function encodeEntries(entries: [number, number, string][]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const [client, clock, json] of entries) {
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, json)
  }
  return encoding.toUint8Array(e)
}
