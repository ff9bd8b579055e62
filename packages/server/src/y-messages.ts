/** Encoders for the y-protocols messages the server sends (SPEC.md rule PR-Y1). */
import * as encoding from 'lib0/encoding'
import { YMessageType, YSyncType } from '@skein/protocol'

/** `[SYNC, sub, varUint8Array(data)]`. */
export function syncMessage(sub: number, data: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, YMessageType.SYNC)
  encoding.writeVarUint(e, sub)
  encoding.writeVarUint8Array(e, data)
  return encoding.toUint8Array(e)
}

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

/** Bytes of `n` as a lib0 varUint. */
function varUintLength(n: number): number {
  let len = 1
  while (n > 0x7f) {
    n = Math.floor(n / 128)
    len++
  }
  return len
}

/**
 * An update broadcast built once for both endpoints with one allocation: the
 * MESSAGE `frame` (from the document's cached `prefix`, see
 * `messageFramePrefix`) and the bare y-protocols `message`, a view into it.
 */
export function updateFrame(
  prefix: Uint8Array,
  update: Uint8Array,
): { frame: Uint8Array; message: Uint8Array } {
  const frame = new Uint8Array(prefix.length + 2 + varUintLength(update.length) + update.length)
  frame.set(prefix, 0)
  let pos = prefix.length
  frame[pos++] = YMessageType.SYNC
  frame[pos++] = YSyncType.UPDATE
  let n = update.length
  while (n > 0x7f) {
    frame[pos++] = 0x80 | (n & 0x7f)
    n = Math.floor(n / 128)
  }
  frame[pos++] = n
  frame.set(update, pos)
  return { frame, message: frame.subarray(prefix.length) }
}
