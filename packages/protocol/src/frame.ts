/**
 * The frame codec of the multiplexed endpoint `/_skein/v1` (SPEC.md §Frames).
 * Every frame starts with a varUint {@link FrameType}; fields are lib0 varUint /
 * varString / varUint8Array. Decoding never trusts lengths: a malformed frame
 * throws a SkeinError('INVALID_INPUT') and the server closes with 4400.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { SkeinError } from '@skein/core'

/** Frame type tags (SPEC.md rule PR-F1). */
export const FrameType = {
  AUTH: 0,
  AUTH_OK: 1,
  SUBSCRIBE: 2,
  UNSUBSCRIBE: 3,
  MESSAGE: 4,
  ACK: 5,
  DOC_ERROR: 6,
  FEED_REQUEST: 7,
  FEED_RESPONSE: 8,
  SUBSCRIBED: 9,
} as const

/** Access granted by a token. */
export type Scope = 'read' | 'write'

/** SUBSCRIBE flag: skip the sync exchange if the document has not changed since `since`. */
export const SUBSCRIBE_QUIET = 1

/** One change-feed entry: `doc` was last stored at workspace sequence `seq`. */
export interface FeedEntry {
  doc: string
  seq: number
}

/** Every frame of the multiplexed protocol. */
export type Frame =
  | { type: typeof FrameType.AUTH; token: string }
  | { type: typeof FrameType.AUTH_OK; workspace: string; scope: Scope }
  | {
      type: typeof FrameType.SUBSCRIBE
      doc: string
      flags: number
      since: number
      /** The client's state vector (sync step 1 folded in), or empty. */
      sv: Uint8Array
    }
  | { type: typeof FrameType.UNSUBSCRIBE; doc: string }
  | { type: typeof FrameType.MESSAGE; doc: string; payload: Uint8Array }
  | { type: typeof FrameType.ACK; doc: string; count: number; seq: number }
  | { type: typeof FrameType.DOC_ERROR; doc: string; code: number; message: string }
  | {
      type: typeof FrameType.FEED_REQUEST
      id: number
      workspace: string
      since: number
      limit: number
    }
  | {
      type: typeof FrameType.FEED_RESPONSE
      id: number
      head: number
      entries: FeedEntry[]
      more: boolean
    }
  | { type: typeof FrameType.SUBSCRIBED; doc: string; seq: number; quiet: boolean }

/** Encodes one frame. */
export function encodeFrame(frame: Frame): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, frame.type)
  switch (frame.type) {
    case FrameType.AUTH:
      encoding.writeVarString(e, frame.token)
      break
    case FrameType.AUTH_OK:
      encoding.writeVarString(e, frame.workspace)
      encoding.writeVarUint(e, frame.scope === 'write' ? 1 : 0)
      break
    case FrameType.SUBSCRIBE:
      encoding.writeVarString(e, frame.doc)
      encoding.writeVarUint(e, frame.flags)
      encoding.writeVarUint(e, frame.since)
      encoding.writeVarUint8Array(e, frame.sv)
      break
    case FrameType.UNSUBSCRIBE:
      encoding.writeVarString(e, frame.doc)
      break
    case FrameType.MESSAGE:
      encoding.writeVarString(e, frame.doc)
      encoding.writeUint8Array(e, frame.payload)
      break
    case FrameType.ACK:
      encoding.writeVarString(e, frame.doc)
      encoding.writeVarUint(e, frame.count)
      encoding.writeVarUint(e, frame.seq)
      break
    case FrameType.DOC_ERROR:
      encoding.writeVarString(e, frame.doc)
      encoding.writeVarUint(e, frame.code)
      encoding.writeVarString(e, frame.message)
      break
    case FrameType.FEED_REQUEST:
      encoding.writeVarUint(e, frame.id)
      encoding.writeVarString(e, frame.workspace)
      encoding.writeVarUint(e, frame.since)
      encoding.writeVarUint(e, frame.limit)
      break
    case FrameType.FEED_RESPONSE:
      encoding.writeVarUint(e, frame.id)
      encoding.writeVarUint(e, frame.head)
      encoding.writeVarUint(e, frame.entries.length)
      for (const entry of frame.entries) {
        encoding.writeVarString(e, entry.doc)
        encoding.writeVarUint(e, entry.seq)
      }
      encoding.writeVarUint(e, frame.more ? 1 : 0)
      break
    case FrameType.SUBSCRIBED:
      encoding.writeVarString(e, frame.doc)
      encoding.writeVarUint(e, frame.seq)
      encoding.writeVarUint(e, frame.quiet ? 1 : 0)
      break
  }
  return encoding.toUint8Array(e)
}

/** Encodes a MESSAGE frame around an already-encoded y-protocols message without re-parsing it. */
export function encodeMessageFrame(doc: string, payload: Uint8Array): Uint8Array {
  return encodeFrame({ type: FrameType.MESSAGE, doc, payload })
}

/**
 * The bytes every MESSAGE frame about `doc` starts with (type and name; the
 * y-protocols message follows). A sender of many messages about one document
 * computes it once and builds each frame with a single allocation.
 */
export function messageFramePrefix(doc: string): Uint8Array {
  // what lib0's writeVarUint + writeVarString write, in one allocation
  const name = utf8.encode(doc)
  const out = new Uint8Array(1 + varUintLength(name.length) + name.length)
  out[0] = FrameType.MESSAGE
  const pos = writeVarUintAt(out, 1, name.length)
  out.set(name, pos)
  return out
}

const utf8 = new TextEncoder()

/** Writes `n` as a lib0 varUint at `pos` of `out`; the position after it. */
function writeVarUintAt(out: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = 0x80 | (n & 0x7f)
    n = Math.floor(n / 128)
  }
  out[pos++] = n
  return pos
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
 * A MESSAGE frame carrying the y-protocols sync message `[0, sub, data]`, built
 * with one allocation from the document's cached {@link messageFramePrefix};
 * `message` is the bare y-protocols message, a view into `frame` (what the
 * compatible endpoint sends). For the hot path: one update per keystroke.
 */
export function encodeSyncFrame(
  prefix: Uint8Array,
  sub: number,
  data: Uint8Array,
): { frame: Uint8Array; message: Uint8Array } {
  const frame = new Uint8Array(prefix.length + 2 + varUintLength(data.length) + data.length)
  frame.set(prefix, 0)
  let pos = prefix.length
  frame[pos++] = 0 // y-protocols SYNC
  frame[pos++] = sub
  pos = writeVarUintAt(frame, pos, data.length)
  frame.set(data, pos)
  return { frame, message: frame.subarray(prefix.length) }
}

function bad(what: string): never {
  throw new SkeinError(
    'INVALID_INPUT',
    `Malformed Skein frame: ${what}. The sender must speak protocol v1 (packages/protocol/SPEC.md).`,
  )
}

function readUint(d: decoding.Decoder): number {
  const n = decoding.readVarUint(d)
  if (!Number.isSafeInteger(n) || n < 0) bad('integer out of range')
  return n
}

function readString(d: decoding.Decoder, max: number): string {
  const len = decoding.peekVarUint(d)
  if (len > max * 4 || len > d.arr.length - d.pos) bad('string length past the end of the frame')
  const s = decoding.readVarString(d)
  if (s.length > max) bad('string too long')
  return s
}

const MAX_NAME = 512
const MAX_TOKEN = 4096
const MAX_FEED_ENTRIES = 100_000

function decodeBody(d: decoding.Decoder, type: number): Frame {
  switch (type) {
    case FrameType.AUTH:
      return { type, token: readString(d, MAX_TOKEN) }
    case FrameType.AUTH_OK:
      return {
        type,
        workspace: readString(d, MAX_NAME),
        scope: readUint(d) === 1 ? 'write' : 'read',
      }
    case FrameType.SUBSCRIBE:
      return {
        type,
        doc: readString(d, MAX_NAME),
        flags: readUint(d),
        since: readUint(d),
        sv: decoding.readVarUint8Array(d),
      }
    case FrameType.UNSUBSCRIBE:
      return { type, doc: readString(d, MAX_NAME) }
    case FrameType.MESSAGE: {
      const doc = readString(d, MAX_NAME)
      const payload = d.arr.subarray(d.pos)
      d.pos = d.arr.length
      if (payload.length === 0) bad('empty MESSAGE payload')
      return { type, doc, payload }
    }
    case FrameType.ACK:
      return { type, doc: readString(d, MAX_NAME), count: readUint(d), seq: readUint(d) }
    case FrameType.DOC_ERROR:
      return { type, doc: readString(d, MAX_NAME), code: readUint(d), message: readString(d, 1024) }
    case FrameType.FEED_REQUEST:
      return {
        type,
        id: readUint(d),
        workspace: readString(d, MAX_NAME),
        since: readUint(d),
        limit: readUint(d),
      }
    case FrameType.FEED_RESPONSE: {
      const id = readUint(d)
      const head = readUint(d)
      const n = readUint(d)
      if (n > MAX_FEED_ENTRIES) bad('too many feed entries')
      const entries: FeedEntry[] = []
      for (let i = 0; i < n; i++) entries.push({ doc: readString(d, MAX_NAME), seq: readUint(d) })
      return { type, id, head, entries, more: readUint(d) === 1 }
    }
    case FrameType.SUBSCRIBED:
      return { type, doc: readString(d, MAX_NAME), seq: readUint(d), quiet: readUint(d) === 1 }
    default:
      return bad(`unknown frame type ${type}`)
  }
}

/** Decodes one frame; throws SkeinError('INVALID_INPUT') on anything malformed (PR-F2). */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length === 0) bad('empty frame')
  const d = decoding.createDecoder(bytes)
  let frame: Frame
  try {
    frame = decodeBody(d, readUint(d))
  } catch (err) {
    if (err instanceof SkeinError) throw err
    return bad('truncated')
  }
  if (d.pos !== bytes.length) bad('trailing bytes')
  return frame
}
