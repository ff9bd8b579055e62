/** A hand-driven multiplexed connection for the bad-client tests. */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { FrameType, YMessageType, YSyncType, decodeFrame } from '@skein/protocol'
import { RawSocket } from './server-helpers.js'

/** Encodes a y-protocols sync message. */
export function syncPayload(sub: number, data: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, YMessageType.SYNC)
  encoding.writeVarUint(e, sub)
  encoding.writeVarUint8Array(e, data)
  return encoding.toUint8Array(e)
}

/** Encodes an awareness message from `[client, clock, json]` entries. */
export function awarenessPayload(entries: [number, number, string][]): Uint8Array {
  const inner = encoding.createEncoder()
  encoding.writeVarUint(inner, entries.length)
  for (const [c, k, j] of entries) {
    encoding.writeVarUint(inner, c)
    encoding.writeVarUint(inner, k)
    encoding.writeVarString(inner, j)
  }
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, YMessageType.AWARENESS)
  encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
  return encoding.toUint8Array(e)
}

/** Opens a mux socket, authenticates and subscribes `doc`; resolves once SUBSCRIBED arrived. */
export async function attacker(url: string, doc: string, token?: string): Promise<RawSocket> {
  const s = new RawSocket(`${url}/_skein/v1`)
  await s.opened
  if (token) s.sendFrame({ type: FrameType.AUTH, token })
  s.sendFrame({ type: FrameType.SUBSCRIBE, doc, flags: 0, since: 0, sv: new Uint8Array(0) })
  await s.until(
    () =>
      s.closeCode !== undefined ||
      s.decoded().some((f) => f.type === FrameType.SUBSCRIBED || f.type === FrameType.DOC_ERROR),
    'subscribed',
  )
  return s
}

/** Sends a write for `doc` then a sync step 1; resolves when the server answered or closed. */
export async function writeAndSettle(
  s: RawSocket,
  doc: string,
  update: Uint8Array,
): Promise<'applied-or-ignored' | number> {
  const before = s.frames.length
  s.sendFrame({ type: FrameType.MESSAGE, doc, payload: syncPayload(YSyncType.UPDATE, update) })
  s.sendFrame({
    type: FrameType.MESSAGE,
    doc,
    payload: syncPayload(YSyncType.STEP1, Y.encodeStateVector(new Y.Doc())),
  })
  await s.until(
    () =>
      s.closeCode !== undefined ||
      s.frames.slice(before).some((f) => {
        const fr = decodeFrame(f)
        return (
          fr.type === FrameType.MESSAGE && fr.payload[0] === 0 && fr.payload[1] === YSyncType.STEP2
        )
      }),
    'server to settle a write',
  )
  if (s.closeCode === undefined) return 'applied-or-ignored'
  return s.closeCode
}
