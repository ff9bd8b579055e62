/**
 * Handles one y-protocols message from a subscriber of a room — shared by both
 * endpoints (SPEC.md PR-Y1, PR-U1…U3, PR-A1…A3).
 */
import * as decoding from 'lib0/decoding'
import { CloseCode, YMessageType, YSyncType } from '@skein/protocol'
import type { Connection } from './connection.js'
import { Outgoing } from './outgoing.js'
import type { Room } from './room.js'
import { awarenessMessage } from './y-messages.js'

/** Processes `payload` for `room`; misbehaviour closes `conn`. `onReadOnly` reports a refused write. */
export function handleYMessage(
  conn: Connection,
  room: Room,
  payload: Uint8Array,
  onReadOnly: () => void,
): void {
  const d = decoding.createDecoder(payload)
  // a write waiting to be committed comes before anything this message does
  // (writes to the same room: queueWrite commits other rooms' first)
  if (
    payload[0] !== YMessageType.SYNC ||
    (payload[1] !== YSyncType.STEP2 && payload[1] !== YSyncType.UPDATE)
  ) {
    conn.commitWrites()
  }
  let type: number
  try {
    type = decoding.readVarUint(d)
  } catch {
    return conn.fail(CloseCode.BAD_FRAME, 'truncated message type')
  }
  switch (type) {
    case YMessageType.SYNC: {
      let sub: number
      let data: Uint8Array
      try {
        sub = decoding.readVarUint(d)
        data = decoding.readVarUint8Array(d)
      } catch {
        return conn.fail(CloseCode.BAD_FRAME, 'truncated sync message')
      }
      if (sub === YSyncType.STEP1) {
        let diff: Uint8Array
        try {
          diff = room.diff(data)
        } catch {
          return conn.fail(CloseCode.BAD_FRAME, 'malformed state vector')
        }
        conn.send(room.syncMessage(YSyncType.STEP2, diff), true)
        return
      }
      if (sub !== YSyncType.STEP2 && sub !== YSyncType.UPDATE) {
        return conn.fail(CloseCode.BAD_FRAME, 'unknown sync message')
      }
      if (!conn.readOnly) return conn.queueWrite(room, data)
      conn.commitWrites()
      const verdict = room.write(conn, data)
      if (conn.refuse(verdict)) return
      if (verdict === 'read-only') onReadOnly()
      return
    }
    case YMessageType.AWARENESS: {
      let update: Uint8Array
      try {
        update = decoding.readVarUint8Array(d)
      } catch {
        return conn.fail(CloseCode.BAD_FRAME, 'truncated awareness message')
      }
      if (!conn.awarenessLimiter.take()) return
      const r = room.applyAwareness(conn, update)
      if (r === 'too-large') return conn.fail(CloseCode.TOO_LARGE, 'awareness state too large')
      if (r === 'malformed') return conn.fail(CloseCode.BAD_FRAME, 'malformed awareness update')
      return
    }
    case YMessageType.QUERY_AWARENESS: {
      const all = room.awareness.encodeAll()
      if (all) conn.send(new Outgoing(room.name, awarenessMessage(all)), true)
      return
    }
    case YMessageType.AUTH:
      return
    default:
      return conn.fail(CloseCode.BAD_FRAME, 'unknown message type')
  }
}

/** The messages a new subscriber gets once the room is loaded: sync step 1 and the awareness states. */
export function greet(conn: Connection, room: Room, step1: boolean): void {
  if (step1) conn.send(room.syncMessage(YSyncType.STEP1, room.stateVector()), true)
  const all = room.awareness.encodeAll()
  if (all) conn.send(new Outgoing(room.name, awarenessMessage(all)), true)
}
