/**
 * One message about a document on its way to one or many peers, built once:
 * the bare y-protocols `message` (compatible endpoint), the MESSAGE `frame`
 * (multiplexed endpoint) and each as a complete WebSocket frame. Frames a
 * server sends are unmasked, so the same wire bytes go to every socket — a
 * broadcast to 50 peers costs one framing and 50 writes, not 50 framings.
 */
import { encodeMessageFrame } from '@skein/protocol'

/** A final, unmasked binary WebSocket frame carrying `payload` (RFC 6455 §5.2). */
export function wsBinaryFrame(payload: Uint8Array): Buffer {
  const n = payload.length
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10
  const out = Buffer.allocUnsafe(head + n)
  out[0] = 0x82 // FIN + opcode 2 (binary)
  if (n < 126) out[1] = n
  else if (n < 65_536) {
    out[1] = 126
    out.writeUInt16BE(n, 2)
  } else {
    out[1] = 127
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2)
    out.writeUInt32BE(n >>> 0, 6)
  }
  out.set(payload, head)
  return out
}

/** A message for the subscribers of `doc`; see the file comment. */
export class Outgoing {
  private muxFrame: Uint8Array | undefined
  private muxWire: Buffer | undefined
  private legacyWire: Buffer | undefined

  constructor(
    readonly doc: string,
    readonly message: Uint8Array,
    frame?: Uint8Array,
  ) {
    this.muxFrame = frame
  }

  /** The MESSAGE frame of the multiplexed endpoint. */
  get frame(): Uint8Array {
    return (this.muxFrame ??= encodeMessageFrame(this.doc, this.message))
  }

  /** The WebSocket frame for a multiplexed (`mux`) or compatible connection. */
  wire(mux: boolean): Buffer {
    if (mux) return (this.muxWire ??= wsBinaryFrame(this.frame))
    return (this.legacyWire ??= wsBinaryFrame(this.message))
  }
}
