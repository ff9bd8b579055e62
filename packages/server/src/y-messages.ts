/** Encoders for the y-protocols messages the server sends (SPEC.md rule PR-Y1); sync messages: `Room.syncMessage`. */
import * as encoding from 'lib0/encoding'
import { YMessageType } from '@skein/protocol'

/** `[AWARENESS, varUint8Array(update)]`. */
export function awarenessMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, YMessageType.AWARENESS)
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

/** True for an update that carries nothing (v1 encoding of no structs and no deletes). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.length === 2 && update[0] === 0 && update[1] === 0
}
