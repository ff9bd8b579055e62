/**
 * Fault injection for agent tests: the real client transport to a real server,
 * with the workspace document's incoming updates held back on demand. An
 * agent whose workspace updates are held keeps working and sending — it just
 * does not see what others did, as in the reconnect race where two devices
 * each create an entry before the other's arrives. Bodies' `synced()` can be
 * gated too: a pass then waits for its body while others' writes land.
 */
import * as Y from 'yjs'
import WebSocket from 'ws'
import { createClientTransport } from '@skein/agent'
import type { DocSession, SyncTransport } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'

const FROM_SERVER = Symbol('held-transport-remote')

/** A transport whose incoming workspace updates can be held and released. */
export interface HeldTransport {
  transport: SyncTransport
  /** Holds back incoming updates of the workspace document until `release()`. */
  hold(): void
  /** Delivers what was held, in order, and stops holding. */
  release(): void
  /** Makes every body's `synced()` wait (the agent waits as for a slow body subscription). */
  gateBodies(): void
  /** Lets the waiting `synced()` calls through. */
  openBodies(): void
  /** How many `synced()` calls on bodies are waiting at the gate. */
  readonly bodyWaiters: number
}

/** Wraps the real client transport to `url`; `workspace` names the room whose incoming updates can be held. */
export function heldTransport(url: string, workspace: string): HeldTransport {
  const inner = createClientTransport({
    server: url,
    token: undefined,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    logger: undefined,
    maxBackoffMs: 200,
    stallMs: 2000,
  })
  let holding = false
  let gate: { promise: Promise<void>; open: () => void; waiters: number } | undefined
  const held: { doc: Y.Doc; update: Uint8Array }[] = []
  const transport: SyncTransport = {
    get connected() {
      return inner.connected
    },
    onConnection: (cb) => inner.onConnection(cb),
    putBlob: (w, h, b) => inner.putBlob(w, h, b),
    getBlob: (w, h) => inner.getBlob(w, h),
    close: () => inner.close(),
    open(room: string, doc: Y.Doc): DocSession {
      if (room !== workspace) {
        const body = inner.open(room, doc)
        return {
          ...body,
          synced: () => {
            const g = gate
            if (!g) return body.synced()
            g.waiters++
            return g.promise.then(() => body.synced())
          },
        }
      }
      // The client syncs a proxy; updates cross to the agent's document unless held.
      const proxy = new Y.Doc()
      Y.applyUpdate(proxy, Y.encodeStateAsUpdate(doc), FROM_SERVER)
      const down = (update: Uint8Array, origin: unknown) => {
        if (origin === FROM_SERVER) return
        if (holding) held.push({ doc, update })
        else Y.applyUpdate(doc, update, FROM_SERVER)
      }
      const up = (update: Uint8Array, origin: unknown) => {
        if (origin !== FROM_SERVER) Y.applyUpdate(proxy, update, FROM_SERVER)
      }
      proxy.on('update', down)
      doc.on('update', up)
      const session = inner.open(room, proxy)
      return {
        synced: () => session.synced(),
        flushed: () => session.flushed(),
        settled: () => session.settled(),
        close: () => {
          proxy.off('update', down)
          doc.off('update', up)
          session.close()
        },
      }
    },
  }
  return {
    transport,
    hold: () => void (holding = true),
    release: () => {
      holding = false
      for (const { doc, update } of held.splice(0)) Y.applyUpdate(doc, update, FROM_SERVER)
    },
    gateBodies: () => {
      let open!: () => void
      const promise = new Promise<void>((r) => (open = r))
      gate = { promise, open, waiters: 0 }
    },
    openBodies: () => {
      gate?.open()
      gate = undefined
    },
    get bodyWaiters() {
      return gate?.waiters ?? 0
    },
  }
}
