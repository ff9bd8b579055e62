/**
 * Wire-level clients of the fan-out benchmark: one raw `ws` socket per client
 * speaking each server's framing by hand (Skein's `/_skein/v1` MESSAGE frames,
 * y-websocket's bare y-protocols messages, Hocuspocus's name-prefixed ones) —
 * the same code for all three servers, only the framing differs. A client does
 * the sync handshake of an empty replica (empty state vector out, an empty
 * update in answer to the server's step 1, synced once the server's step 2
 * arrived; Skein sends no step 1 to an empty subscriber, PR-F4), then sends its own updates and hands every incoming sync update to
 * `onUpdate` undecoded: receivers never apply remote updates, so 50 of them
 * cost little and the benchmark measures the server.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { FrameType, MUX_PATH, encodeFrame, messageFramePrefix } from '@skein/protocol'
import type { ServerKind } from './server-bench-clients.js'

const SYNC = 0
const STEP1 = 0
const STEP2 = 1
const UPDATE = 2
/** Hocuspocus message types (its `MessageType` enum); Sync is 0 like y-protocols' SYNC. */
const HP_AUTH = 2
const HP_SYNC_REPLY = 4
/** The v1 encoding of an update carrying nothing; an empty replica's state vector. */
const EMPTY_UPDATE = new Uint8Array([0, 0])
const EMPTY_SV = new Uint8Array([0])

/** What a wire client needs from its owner. */
export interface WireClientOptions {
  kind: ServerKind
  port: number
  /** Document name (`ws1/fan`). */
  doc: string
  /** A sync update or step 2 arrived at wall-clock `at`: the Yjs update is `bytes` from `start` on. */
  onUpdate: (bytes: Buffer, start: number, at: number) => void
  /** Wall clock in ms, comparable across processes. */
  now: () => number
}

/** One client socket to any of the servers. */
export class WireClient {
  /** Resolves once the server's step 2 arrived and its step 1 was answered (the order varies by server). */
  readonly synced: Promise<void>
  private readonly ws: WebSocket
  private readonly prefix: Uint8Array
  private gotStep2 = false
  private answeredStep1 = false
  private markSynced!: () => void

  constructor(private readonly o: WireClientOptions) {
    const base = `ws://127.0.0.1:${o.port}`
    const url =
      o.kind === 'skein'
        ? base + MUX_PATH
        : o.kind === 'y-websocket@2.1.0'
          ? `${base}/${o.doc}`
          : base
    this.prefix = framePrefix(o.kind, o.doc)
    // Skein sends no step 1 to a subscriber with an empty state vector (PR-F4)
    this.answeredStep1 = o.kind === 'skein'
    this.synced = new Promise((r) => (this.markSynced = r))
    this.ws = new WebSocket(url, { perMessageDeflate: false })
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('error', (err) => process.stderr.write(`${o.kind} client: ${err.message}\n`))
    this.ws.on('open', () => this.onOpen())
    this.ws.on('message', (data: Buffer) => this.onMessage(data))
  }

  /** Sends a Yjs update (v1) as a sync update message. */
  send(update: Uint8Array): void {
    this.sendSync(UPDATE, update)
  }

  close(): void {
    this.ws.terminate()
  }

  private onOpen(): void {
    if (this.o.kind === 'skein') return // subscribes on AUTH_OK (open auth sends it unasked)
    if (this.o.kind === 'hocuspocus@3') {
      const e = encoding.createEncoder()
      encoding.writeVarString(e, this.o.doc)
      encoding.writeVarUint(e, HP_AUTH)
      encoding.writeVarUint(e, 0) // token
      encoding.writeVarString(e, 'bench')
      this.ws.send(encoding.toUint8Array(e))
    }
    this.sendSync(STEP1, EMPTY_SV)
  }

  /** `[prefix][SYNC][sub][varUint8Array(data)]`. */
  private sendSync(sub: number, data: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const e = encoding.createEncoder()
    encoding.writeUint8Array(e, this.prefix)
    encoding.writeVarUint(e, SYNC)
    encoding.writeVarUint(e, sub)
    encoding.writeVarUint8Array(e, data)
    this.ws.send(encoding.toUint8Array(e))
  }

  private onMessage(data: Buffer): void {
    const at = this.o.now()
    const d = decoding.createDecoder(data)
    if (this.o.kind === 'skein') {
      const type = decoding.readVarUint(d)
      if (type === FrameType.AUTH_OK) {
        const frame = {
          type: FrameType.SUBSCRIBE,
          doc: this.o.doc,
          flags: 0,
          since: 0,
          sv: EMPTY_SV,
        }
        return void this.ws.send(encodeFrame(frame))
      }
      if (type !== FrameType.MESSAGE) return // SUBSCRIBED, ACK
      skipString(d)
      if (decoding.readVarUint(d) !== SYNC) return // awareness
    } else if (this.o.kind === 'hocuspocus@3') {
      skipString(d)
      const type = decoding.readVarUint(d)
      if (type !== SYNC && type !== HP_SYNC_REPLY) return // auth, SyncStatus acks, awareness
    } else if (decoding.readVarUint(d) !== SYNC) return // awareness
    const sub = decoding.readVarUint(d)
    decoding.readVarUint(d) // length of the rest
    if (sub === STEP1) {
      this.sendSync(STEP2, EMPTY_UPDATE) // this replica holds nothing the server lacks
      this.answeredStep1 = true
    } else if (sub === STEP2 || sub === UPDATE) {
      this.gotStep2 ||= sub === STEP2
      this.o.onUpdate(data, d.pos, at)
    }
    if (this.gotStep2 && this.answeredStep1) this.markSynced()
  }
}

function skipString(d: decoding.Decoder): void {
  const length = decoding.readVarUint(d) // read first: `d.pos += read()` would lose the advance
  d.pos += length
}

/** What precedes a y-protocols message on each server's socket. */
function framePrefix(kind: ServerKind, doc: string): Uint8Array {
  if (kind === 'skein') return messageFramePrefix(doc)
  if (kind === 'y-websocket@2.1.0') return new Uint8Array(0)
  const e = encoding.createEncoder()
  encoding.writeVarString(e, doc) // then Hocuspocus's type Sync (0) = y-protocols' SYNC byte
  return encoding.toUint8Array(e)
}

/** A Yjs item id. */
export interface ItemId {
  client: number
  clock: number
}

/**
 * The v1 update a replica emits for `array.push([content])` on the root array
 * `ops` when its last element is `origin` (or the array is empty): one item of
 * `client` at `clock`, no deletes — byte for byte what Yjs writes (see
 * {@link checkEncodeAppend}).
 */
export function encodeAppend(author: ItemId, origin: ItemId | null, content: string): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // struct groups
  encoding.writeVarUint(e, 1) // structs of the group
  encoding.writeVarUint(e, author.client)
  encoding.writeVarUint(e, author.clock)
  encoding.writeUint8(e, 8 | (origin ? 0x80 : 0)) // ContentAny, left origin
  if (origin) {
    encoding.writeVarUint(e, origin.client)
    encoding.writeVarUint(e, origin.clock)
  } else {
    encoding.writeVarUint(e, 1) // parent is a root type…
    encoding.writeVarString(e, 'ops') // …named ops
  }
  encoding.writeVarUint(e, 1)
  encoding.writeAny(e, content)
  encoding.writeVarUint(e, 0) // delete set
  return encoding.toUint8Array(e)
}

/** Throws unless {@link encodeAppend} writes what Yjs writes for the same pushes (run once per benchmark process). */
export function checkEncodeAppend(): void {
  const a = new Y.Doc()
  const b = new Y.Doc()
  const fromA: Uint8Array[] = []
  const fromB: Uint8Array[] = []
  a.on('update', (u: Uint8Array) => fromA.push(u))
  a.getArray('ops').push(['first'])
  Y.applyUpdate(b, fromA[0]!)
  b.on('update', (u: Uint8Array) => fromB.push(u))
  b.getArray('ops').push([stamp(7, 1234.5)])
  const first = { client: a.clientID, clock: 0 }
  const ours = [
    encodeAppend(first, null, 'first'),
    encodeAppend({ client: b.clientID, clock: 0 }, first, stamp(7, 1234.5)),
  ]
  const same = (x: Uint8Array, y: Uint8Array | undefined) => !!y && Buffer.from(x).equals(y)
  if (!same(ours[0]!, fromA[0]) || !same(ours[1]!, fromB[0]))
    throw new Error('encodeAppend no longer writes the updates Yjs emits: fix server-bench-wire.ts')
}

/** The id of the first item in the v1 update at `bytes[start…]`, or undefined (no structs). */
export function firstItemId(bytes: Buffer, start: number): ItemId | undefined {
  const d = decoding.createDecoder(bytes)
  d.pos = start
  if (decoding.readVarUint(d) === 0 || decoding.readVarUint(d) === 0) return undefined
  return { client: decoding.readVarUint(d), clock: decoding.readVarUint(d) }
}

const MARK = '<fan:'
const MARK_BYTES = Buffer.from(MARK)
const COLON = 0x3a
const END = 0x3e // '>'

/**
 * The content of one benchmark op: the sender and its send time, inside a
 * marker that {@link readStamps} finds in the encoded update without decoding
 * it (Yjs stores a string's UTF-8 bytes verbatim).
 */
export function stamp(sender: number, sentAt: number): string {
  return `${MARK}${sender}:${sentAt.toFixed(3)}>`
}

/**
 * Calls `found(sender, sentAt)` for every op stamp in `bytes` from `start` (an
 * update, possibly of several ops). A stamp cannot arise by chance: the 5-byte
 * marker is followed by digits, ':', digits and '>'.
 */
export function readStamps(
  bytes: Buffer,
  start: number,
  found: (sender: number, sentAt: number) => void,
): void {
  let at = bytes.indexOf(MARK_BYTES, start)
  while (at >= 0) {
    let i = at + MARK_BYTES.length
    let sender = 0
    for (let c = bytes[i]; c !== undefined && c !== COLON; c = bytes[++i])
      sender = sender * 10 + c - 48
    let end = i + 1
    while (end < bytes.length && bytes[end] !== END) end++
    found(sender, Number(bytes.toString('latin1', i + 1, end)))
    at = bytes.indexOf(MARK_BYTES, end)
  }
}
