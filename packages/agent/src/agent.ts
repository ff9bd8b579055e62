import { existsSync } from 'node:fs'
import * as Y from 'yjs'
import { SkeinError, asDeviceId } from '@skein/core'
import type { FileId } from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import type { WebSocketConstructor } from '@skein/client'
import { DEFAULT_AGENT_OPTIONS } from './agent-options.js'
import type { AgentOptions } from './agent-options.js'
import type { AgentEventMap, AgentStatus, OpenConflict } from './agent-events.js'
import type { AgentContext } from './agent-context.js'
import { BodyDocs } from './body-docs.js'
import { ChokidarWatcher } from './chokidar-watcher.js'
import { createClientTransport } from './client-transport.js'
import { DiskWriter } from './disk-writer.js'
import { FileSync } from './file-sync.js'
import { ServerReset } from './server-reset.js'
import { logIfSlow } from './slow-log.js'
import { loadIgnoreMatcher } from './ignore-rules.js'
import { LocalChanges } from './local-changes.js'
import { NativeWatcher } from './native-watcher.js'
import { RemoteChanges } from './remote-changes.js'
import { SkippedFiles } from './skipped-files.js'
import type { SkippedFile } from './skipped-files.js'
import { StateStore } from './state-store.js'
import type { TrashRecord } from './state-types.js'
import type { SyncTransport, DocSession } from './sync-transport.js'
import type { FolderWatcher } from './watcher-types.js'
import { WorkQueue } from './work-queue.js'
import { adoptRecoveredWrites } from './recovery.js'
import { BODY_SYNC_WAIT_MS, syncedWithin } from './usable-body.js'

type Listener<T> = (value: T) => void

/**
 * The device agent: keeps a folder on disk and a workspace identical, live
 * while online and merged three-way after offline periods (DESIGN §5).
 */
export class Agent {
  readonly options: AgentOptions
  private readonly listeners = new Map<keyof AgentEventMap, Set<Listener<never>>>()
  private state: AgentStatus['state'] = 'idle'
  private pausedReason: string | undefined
  private lastSync: number | undefined
  private pendingCount = 0
  private pendingSample: string[] = []
  private wsSynced = false
  /** The workspace document synced on some earlier connection (a reconnect then subscribes afresh). */
  private wsEverSynced = false
  private ctx: AgentContext | undefined
  private session: DocSession | undefined
  private watcher: FolderWatcher | undefined
  private queue: WorkQueue | undefined
  private readonly cleanups: (() => void)[] = []

  constructor(
    options: Partial<AgentOptions> &
      Pick<AgentOptions, 'root' | 'workspace' | 'device'> & { WebSocket?: WebSocketConstructor },
  ) {
    this.options = { ...DEFAULT_AGENT_OPTIONS, ...options }
    this.webSocket = options.WebSocket
  }

  private readonly webSocket: WebSocketConstructor | undefined

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof AgentEventMap>(event: K, cb: Listener<AgentEventMap[K]>): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    const l: Listener<never> = cb
    set.add(l)
    return () => set.delete(l)
  }

  private emit<K extends keyof AgentEventMap>(event: K, value: AgentEventMap[K]): void {
    for (const cb of this.listeners.get(event) ?? []) (cb as Listener<AgentEventMap[K]>)(value)
  }

  /** Connection, pending files, conflicts, last sync. */
  status(): AgentStatus {
    return {
      state: this.state,
      connection: this.ctx?.online() ? 'online' : 'offline',
      pendingFiles: this.pendingCount,
      pendingPaths: this.pendingSample,
      conflicts: this.ctx?.ws.openConflicts().length ?? 0,
      lastSync: this.lastSync,
      pausedReason: this.pausedReason,
      openBodies: this.ctx?.bodies.size ?? 0,
      skippedFiles: this.ctx?.skipped.list().slice(0, 100) ?? [],
      skipped: this.ctx?.skipped.size ?? 0,
    }
  }

  /** The workspace's conflicts that still need attention, found by any device, oldest first. */
  openConflicts(): OpenConflict[] {
    const ws = this.ctx?.ws
    if (!ws) return []
    return ws.openConflicts().map((c) => ({
      id: c.id,
      path: ws.getPath(c.file) ?? c.path,
      kind: c.kind,
      device: c.device,
      time: c.time,
      copyPath: c.copy === undefined ? undefined : ws.getPath(c.copy),
    }))
  }

  /** Every local path left unsynced, with why and what to do (also in `status()`, capped). */
  skippedFiles(): SkippedFile[] {
    return this.ctx?.skipped.list() ?? []
  }

  /** Opens the state, recovers interrupted writes, syncs, indexes the folder and starts watching. */
  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new SkeinError(
        'PRECONDITION_FAILED',
        `Agent for ${this.options.root} was already started; create a new Agent to restart.`,
      )
    const o = this.options
    if (!existsSync(o.root))
      throw new SkeinError(
        'NOT_FOUND',
        `The workspace folder ${o.root} does not exist; create it or fix the path.`,
      )
    this.state = 'starting'
    const store = await StateStore.open(o.root)
    const writer = new DiskWriter(o.root, store, {
      clock: o.clock,
      // A temp that moved with its folder mid-write is found (and swept) by a full scan.
      onLostTemp: () => this.queue?.touchAll(),
    })
    await adoptRecoveredWrites(store, await writer.recover(), o.maxTextBytes)
    const transport: SyncTransport =
      o.transport ??
      createClientTransport({
        server: o.server,
        token: o.token || undefined,
        WebSocket: this.webSocket,
        logger: o.logger,
        maxBackoffMs: o.maxReconnectDelayMs,
        stallMs: o.stallTimeoutMs,
        heartbeatMs: o.heartbeatMs,
        heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      })
    const doc = new Y.Doc()
    const saved = await store.loadDoc(o.workspace)
    if (saved) Y.applyUpdate(doc, saved)
    const device = asDeviceId(o.device)
    const ws = new WorkspaceCrdt(doc, { device, clock: o.clock })
    const queue = new WorkQueue((err) => this.emit('error', err as Error))
    this.queue = queue
    const ctx: AgentContext = {
      opts: o,
      device,
      store,
      writer,
      ws,
      transport,
      ignore: loadIgnoreMatcher(o.root),
      origin: { source: 'disk', device },
      bodies: new BodyDocs(
        o.workspace,
        transport,
        store,
        (id) => queue.touchId(id),
        (id) => ws.get(id)?.gen,
        o.bodyIdleMs,
      ),
      online: () => transport.connected && this.wsSynced,
      conflict: (c) => this.emit('conflict', c),
      issue: (i) => this.emit('issue', i),
      skipped: new SkippedFiles((i) => this.emit('issue', i)),
      requeue: (id, ms) => queue.touchIdLater(id, ms),
      requeuePaths: (paths, ms) => queue.touchPathsLater(paths, ms),
    }
    this.ctx = ctx
    const files = new FileSync(ctx)
    const reset = new ServerReset(ctx)
    let resent = false
    // The acked head moves with this device's writes, not with its passes: look every second.
    const headTimer = setInterval(() => void reset.record().catch(() => undefined), 1_000)
    headTimer.unref()
    this.cleanups.push(() => clearInterval(headTimer))
    const local = new LocalChanges(ctx, files, (n, total) => this.guard(n, total))
    const remote = new RemoteChanges(ctx, files, local)
    // A pass that runs for long says so in the debug log (what it is and for how long).
    const watched = (what: string, fn: () => Promise<void>) =>
      logIfSlow(o.logger, 'pass still running', () => ({ what }), fn)
    queue.setHandlers({
      full: () =>
        watched('full', async () => {
          await watched('full: disk', () => local.process(['']))
          await watched('full: workspace', () =>
            remote.process(ws.list({ includeDeleted: true }).map((e) => e.id)),
          )
          if (ctx.online()) this.lastSync = o.clock.now()
        }),
      paths: (paths) =>
        watched(`paths ${paths.slice(0, 5).join(', ')}`, () => local.process(paths)),
      ids: (ids) => watched(`ids ${ids.slice(0, 5).join(', ')}`, () => remote.process(ids)),
      after: async () => {
        this.pendingCount = store.pendingCount
        this.pendingSample = store.pendingList(100)
        this.emit('status', this.status())
        this.emit('idle', undefined)
      },
      paused: () => this.state === 'paused',
    })
    let saveTimer: NodeJS.Timeout | undefined
    const onUpdate = () => {
      saveTimer ??= setTimeout(() => {
        saveTimer = undefined
        void store.saveDoc(o.workspace, Y.encodeStateAsUpdate(doc)).catch(() => {})
      }, 200)
    }
    doc.on('update', onUpdate)
    this.cleanups.push(() => {
      doc.off('update', onUpdate)
      if (saveTimer) clearTimeout(saveTimer)
    })
    this.cleanups.push(
      ws.observe((events, origin) => {
        if (origin.source === 'disk' && origin.device === device) return
        for (const e of events) queue.touchId(e.id)
      }),
    )
    this.session = transport.open(o.workspace, doc)
    let firstSync!: () => void
    const synced = new Promise<void>((r) => (firstSync = r))
    const whenWsSynced = async () => {
      // Watchdog: a subscription the server leaves unanswered is renewed.
      while (
        transport.connected &&
        this.session &&
        !(await syncedWithin({ session: this.session }, BODY_SYNC_WAIT_MS))
      ) {
        if (this.state === 'stopped' || !transport.connected) return
        o.logger.warn('workspace document did not sync; subscribing again', {
          workspace: o.workspace,
        })
        this.session.close()
        this.session = transport.open(o.workspace, doc)
      }
      if (!transport.connected || this.state === 'stopped') return
      this.wsSynced = true
      this.wsEverSynced = true
      ctx.bodies.resume()
      firstSync()
      if (!resent) {
        // Updates a previous run persisted but never got acknowledged: send them.
        resent = true
        void ctx.bodies
          .resendUnsent()
          .then(
            (n) =>
              n > 0 && o.logger.info('sending bodies a previous run left unsent', { count: n }),
          )
          .catch((err: unknown) => this.emit('error', err as Error))
      }
      this.emit('status', this.status())
      queue.touchAll() // reconnect: fold in pending edits three-way
      void reset.check().catch((err: unknown) => this.emit('error', err as Error))
    }
    this.cleanups.push(
      transport.onConnection((up) => {
        if (!up) {
          void reset.record().catch(() => undefined)
          this.wsSynced = false
          ctx.bodies.suspend()
          this.emit('status', this.status())
          return
        }
        // A reconnect subscribes afresh, never quietly: a quiet resubscription trusts
        // the change feed, whose sequence numbers start over on a server that lost
        // its data — the workspace would look unchanged when another device restored
        // it. It is one document; a full state-vector exchange costs little. (The
        // first connection uses the subscription `start()` just opened.)
        if (this.wsEverSynced) {
          this.session?.close()
          this.session = transport.open(o.workspace, doc)
        }
        void whenWsSynced()
      }),
    )
    if (transport.connected) void whenWsSynced()
    // Offline starts work too: after the timeout edits are recorded as pending.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([synced, new Promise((r) => (timer = setTimeout(r, o.syncTimeoutMs)))])
    clearTimeout(timer)
    this.state = 'running'
    queue.touchAll()
    await queue.idle()
    this.watcher = await this.startWatcher(ctx, queue)
    // Catch what happened between the first pass and the watch being set up.
    queue.touchAll()
    if (o.rescanIntervalMs > 0) {
      const t = setInterval(() => queue.touchAll(), o.rescanIntervalMs)
      this.cleanups.push(() => clearInterval(t))
    }
  }

  /** The mass-delete guard: true lets a batch of deletes go out; false pauses the agent. */
  private guard(deletes: number, total: number): boolean {
    const o = this.options
    const vanished = !Number.isFinite(deletes)
    if (!vanished && (deletes < o.massDeleteMinimum || deletes <= o.massDeleteRatio * total))
      return true
    if (this.state === 'paused') return false
    this.state = 'paused'
    this.pausedReason = vanished
      ? `The workspace folder ${o.root} (or its .skein state) vanished — an unmounted drive? Nothing was deleted remotely; remount it and call resume().`
      : `${deletes} of ${total} files were deleted at once in ${o.root}; nothing was deleted remotely. Restore the files, or call resume() to propagate the deletes.`
    this.emit('status', this.status())
    return false
  }

  /** Leaves the paused state: the next pass propagates what paused it (e.g. confirmed mass deletes). */
  async resume(): Promise<void> {
    if (this.state !== 'paused') return
    this.state = 'running'
    this.pausedReason = undefined
    const min = this.options.massDeleteMinimum
    this.options.massDeleteMinimum = Number.MAX_SAFE_INTEGER
    try {
      this.queue?.touchAll()
      await this.whenIdle()
    } finally {
      this.options.massDeleteMinimum = min
    }
  }

  /** Resolves when every queued change has been processed. */
  async whenIdle(): Promise<void> {
    await this.queue?.idle()
  }

  /** Forces a full rescan (catches events a watcher missed) and waits for it. */
  async rescan(): Promise<void> {
    this.queue?.touchAll()
    await this.whenIdle()
  }

  /**
   * Stops (false) or restarts (true) the watcher without a rescan: what changes
   * meanwhile is missed until the next rescan (tests of the rescan; tools).
   */
  async setWatching(on: boolean): Promise<void> {
    if (!on) {
      await this.watcher?.close()
      this.watcher = undefined
      return
    }
    if (this.watcher || !this.ctx || !this.queue) return
    this.watcher = await this.startWatcher(this.ctx, this.queue)
  }

  private async startWatcher(ctx: AgentContext, queue: WorkQueue): Promise<FolderWatcher> {
    const o = this.options
    const watcher =
      o.watcher === 'chokidar'
        ? new ChokidarWatcher(o.root, ctx.ignore, { debounceMs: o.debounceMs })
        : new NativeWatcher(o.root, ctx.ignore, { debounceMs: o.debounceMs })
    watcher.onChanges((paths) => queue.touchPaths(paths))
    watcher.onError((err) => this.emit('error', err))
    await watcher.start()
    return watcher
  }

  /** Files that remote deletes moved to `.skein/trash/`, newest first. */
  async listTrash(): Promise<TrashRecord[]> {
    if (!this.ctx)
      throw new SkeinError('PRECONDITION_FAILED', 'Start the agent before listing its trash.')
    return this.ctx.store.listTrash()
  }

  /** Puts the newest trashed file that lived at `path` back (it then syncs as a new file). */
  async restoreFromTrash(path: string): Promise<TrashRecord | undefined> {
    if (!this.ctx)
      throw new SkeinError(
        'PRECONDITION_FAILED',
        'Start the agent before restoring from its trash.',
      )
    return this.ctx.store.restoreFromTrash(path)
  }

  /** Stops watching and syncing, persists state and closes it. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') return
    this.state = 'stopped'
    await this.watcher?.close()
    await this.queue?.close()
    for (const c of this.cleanups.splice(0)) c()
    const ctx = this.ctx
    if (!ctx) return
    await ctx.bodies.closeAll()
    await ctx.store.saveDoc(this.options.workspace, Y.encodeStateAsUpdate(ctx.ws.doc))
    this.session?.close()
    ctx.ws.destroy()
    if (!this.options.transport) await ctx.transport.close()
    await ctx.store.close()
  }

  /** FileIds the agent has a base for (tests and tools). */
  knownFiles(): FileId[] {
    return this.ctx?.store.allBases().map((b) => b.fileId) ?? []
  }

  /** The WorkspaceCrdt this agent syncs (read it; write through the folder). */
  get workspaceCrdt(): WorkspaceCrdt | undefined {
    return this.ctx?.ws
  }
}
