/**
 * The chaos world: one real `skein serve` process (LevelDB + blob folder), N
 * device agents in child processes on their own temp folders, each behind a
 * {@link FaultProxy}, and the means to break any of them. `quiesce()` heals
 * every fault and waits until the system is at rest, then reports what the
 * folders and the server's CRDT hold, for the oracle.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { SyncClient, downloadBlob } from '@skein/client'
import type { WebSocketConstructor } from '@skein/client'
import type { DeviceId } from '@skein/core'
import { sha256HexSync as sha } from '@skein/core/node'
import { WorkspaceCrdt } from '@skein/workspace'
import { REPO, spawnSkein, waitFor } from '../helpers/cli.js'
import { FaultProxy } from './fault-proxy.js'
import type { DeviceConfig, DeviceReport } from './device-child.js'
import { readTree, treeDiff, type Tree } from './tree.js'

/** How long a started device may take to report ready. */
const READY_TIMEOUT_MS = 60_000

const DEVICE_MAIN = join(import.meta.dirname, 'device-child.ts')

/** One device: a folder, its proxy, and (while running) its agent process. */
/** The reason a device pauses on a batch of local deletes (Agent's mass-delete guard). */
const MASS_DELETE = / files were deleted at once in /

export interface Device {
  index: number
  name: string
  root: string
  proxy: FaultProxy
  clockSkewMs: number
  child: ChildProcess | undefined
  exited: Promise<void> | undefined
  /** Tail of the agent's stderr (printed when a history fails). */
  stderr: string[]
  /** Reports of every process that ran for this device (conflicts, issues, errors). */
  reports: DeviceReport[]
  /** Extra agent options (JSON) for every start of this device. */
  agentOptions: Record<string, unknown>
  /** Extra environment for the agent process (e.g. a fault-injection preload). */
  env: Record<string, string>
}

/** What the system holds at rest. */
export interface AtRest {
  converged: boolean
  /** Why it did not converge (empty when it did). */
  problems: string[]
  trees: Tree[]
  crdt: Tree | undefined
  reports: DeviceReport[]
}

export class ChaosWorld {
  readonly base = mkdtempSync(join(tmpdir(), 'skein-chaos-'))
  readonly workspace: string
  readonly devices: Device[] = []
  /** The op log (every operation and fault, in order). */
  readonly log: string[] = []
  private server: { child: ChildProcess; url: string; exited: Promise<unknown> } | undefined
  private serverPort = 0

  constructor(
    devices: number,
    opts: { workspace?: string; clockSkew?: { device: number; ms: number } } = {},
  ) {
    this.workspace = opts.workspace ?? 'chaos'
    for (let i = 0; i < devices; i++) {
      const name = `d${i}`
      const root = join(this.base, name)
      mkdirSync(root, { recursive: true })
      this.devices.push({
        index: i,
        name,
        root,
        proxy: new FaultProxy(0),
        clockSkewMs: opts.clockSkew?.device === i ? opts.clockSkew.ms : 0,
        child: undefined,
        exited: undefined,
        stderr: [],
        reports: [],
        agentOptions: {},
        env: {},
      })
    }
  }

  /** Opens every device's proxy (devices can start before the server). */
  async init(): Promise<void> {
    for (const d of this.devices) if (!d.proxy.port) await d.proxy.listen()
  }

  note(line: string): void {
    this.log.push(line)
    // Also on disk as it happens: a history that hangs can be read while it hangs.
    appendFileSync(join(this.base, 'ops.log'), `${line}\n`)
  }

  get serverUrl(): string {
    if (!this.server) throw new Error('chaos: the server is not running')
    return this.server.url
  }

  get serverRunning(): boolean {
    return this.server !== undefined
  }

  /** Starts `skein serve` on the world's data dir (the same port on restarts) and points every proxy at it. */
  async startServer(): Promise<void> {
    if (this.server) return
    const serve = spawnSkein([
      'serve',
      '--port',
      String(this.serverPort),
      '--data',
      join(this.base, 'server'),
    ])
    const exited = serve.exited
    const url = await waitFor(
      'server listening',
      async () => {
        const early = await Promise.race([exited, Promise.resolve(undefined)])
        if (early)
          throw new Error(
            `skein serve exited (${String(early.code)}): ${early.stderr.slice(-2000)}`,
          )
        return /listening on (ws:\/\/\S+)/.exec(serve.out.stdout)?.[1]
      },
      30_000,
    )
    this.serverPort = Number(new URL(url).port)
    this.server = { child: serve.child, url, exited }
    await this.init()
    for (const d of this.devices) d.proxy.retarget(this.serverPort)
  }

  /** Stops the server: SIGKILL (a crash) or SIGTERM (graceful). */
  async stopServer(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const s = this.server
    if (!s) return
    this.server = undefined
    s.child.kill(signal)
    await s.exited
  }

  /** Starts device `i`'s agent process and waits until it reports ready. */
  async startDevice(i: number, opts: { waitReady?: boolean } = {}): Promise<void> {
    const d = this.dev(i)
    if (d.child) return
    await this.init()
    const cfg: DeviceConfig = {
      root: d.root,
      url: d.proxy.url,
      workspace: this.workspace,
      device: d.name,
      clockSkewMs: d.clockSkewMs,
      agentOptions: d.agentOptions,
    }
    const child = fork(DEVICE_MAIN, [JSON.stringify(cfg)], {
      cwd: REPO,
      env: { ...process.env, ...d.env },
      execArgv: ['--conditions=@skein/source', '--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    d.child = child
    d.exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.stderr?.on('data', (b: Buffer) => {
      appendFileSync(this.logFile(d), b)
      d.stderr.push(...b.toString().split('\n').filter(Boolean))
      if (d.stderr.length > 200) d.stderr.splice(0, d.stderr.length - 200)
    })
    if (opts.waitReady === false) return
    await new Promise<void>((resolve, reject) => {
      // A start that never completes is a finding, not a hang of the whole run.
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `device ${d.name} did not become ready within ${READY_TIMEOUT_MS / 1000} s:\n${d.stderr.slice(-40).join('\n')}`,
            ),
          ),
        READY_TIMEOUT_MS,
      )
      const onMsg = (m: { type?: string }) => {
        if (m.type === 'ready') {
          clearTimeout(timer)
          child.off('message', onMsg)
          resolve()
        }
      }
      child.on('message', onMsg)
      child.once('exit', (code) =>
        reject(
          new Error(
            `device ${d.name} exited (${String(code)}) before ready:\n${d.stderr.join('\n')}`,
          ),
        ),
      )
    })
  }

  /** Stops device `i` gracefully (its last report is kept). */
  async stopDevice(i: number): Promise<void> {
    const d = this.dev(i)
    const child = d.child
    if (!child) return
    const r = await this.report(i).catch(() => undefined)
    if (r) d.reports.push(r)
    child.send({ type: 'stop' })
    const done = await Promise.race([
      d.exited?.then(() => true),
      new Promise((res) => setTimeout(() => res(false), 20_000)),
    ])
    if (!done) {
      this.note(`device ${d.name} did not stop within 20 s; SIGKILL`)
      child.kill('SIGKILL')
      await d.exited
    }
    d.child = undefined
  }

  /** SIGKILLs device `i`'s agent (a crash; its report since start is lost with it). */
  async killDevice(i: number): Promise<void> {
    const d = this.dev(i)
    if (!d.child) return
    d.child.kill('SIGKILL')
    await d.exited
    d.child = undefined
  }

  running(i: number): boolean {
    return this.dev(i).child !== undefined
  }

  /** Asks a running device for its status and reports. */
  report(i: number, ms = 5000): Promise<DeviceReport> {
    const child = this.dev(i).child
    if (!child) return Promise.reject(new Error(`device d${i} is not running`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMsg)
        reject(new Error(`device d${i} did not answer a status request within ${ms} ms`))
      }, ms)
      const onMsg = (m: { type?: string }) => {
        if (m.type !== 'status') return
        clearTimeout(timer)
        child.off('message', onMsg)
        resolve(m as DeviceReport)
      }
      child.on('message', onMsg)
      child.send({ type: 'status' })
    })
  }

  /**
   * Heals every fault (server up, proxies up, every device running) and waits
   * until the system rests: all devices online with nothing pending, all
   * folders equal and unchanged over two polls, and equal to the server's CRDT.
   */
  async quiesce(timeoutMs = 90_000): Promise<AtRest> {
    await this.startServer()
    for (const d of this.devices) d.proxy.setMode('up')
    for (const d of this.devices) await this.startDevice(d.index)
    const end = Date.now() + timeoutMs
    let lastKey = ''
    let problems: string[] = []
    let reports: DeviceReport[] = []
    let trees: Tree[] = []
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 400))
      problems = []
      reports = await Promise.all(this.devices.map((d) => this.report(d.index)))
      for (const [i, r] of reports.entries()) {
        const s = r.status
        if (s.state === 'paused' && MASS_DELETE.test(s.pausedReason ?? '')) {
          // The history deleted a folder holding most of a small workspace, and the
          // guard asked for confirmation: confirm as the user would. Deletes the
          // history did not make would then show up as lost tokens.
          this.note(`d${i} paused by the mass-delete guard; resumed (the user confirms)`)
          this.dev(i).child?.send({ type: 'resume' })
        }
        if (s.state !== 'running') problems.push(`d${i} state ${s.state} ${s.pausedReason ?? ''}`)
        if (s.connection !== 'online') problems.push(`d${i} offline`)
        if (s.pendingFiles > 0)
          problems.push(
            `d${i} has ${s.pendingFiles} pending files (${(s.pendingPaths ?? []).join(', ')})`,
          )
      }
      trees = this.devices.map((d) => readTree(d.root))
      for (let i = 1; i < trees.length; i++) {
        const diff = treeDiff(trees[0] as Tree, trees[i] as Tree, 'd0', `d${i}`)
        if (diff.length) problems.push(...diff)
      }
      const key = JSON.stringify(
        [...(trees[0] ?? new Map()).entries()].map(([k, v]) => [k, v.hash]),
      )
      if (problems.length || key !== lastKey) {
        lastKey = problems.length ? '' : key
        continue
      }
      const crdt = await this.readCrdt()
      const diff = treeDiff(trees[0] as Tree, crdt, 'folders', 'crdt')
      if (diff.length) {
        problems.push(...diff)
        lastKey = ''
        continue
      }
      return { converged: true, problems: [], trees, crdt, reports }
    }
    return { converged: false, problems, trees, crdt: undefined, reports }
  }

  /** Reads the server's state through a fresh client: every shown path with its content. */
  async readCrdt(): Promise<Tree> {
    const url = this.serverUrl
    const client = new SyncClient({
      url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
    })
    const docs: Y.Doc[] = []
    try {
      const doc = new Y.Doc()
      docs.push(doc)
      await withTimeout(client.open(this.workspace, doc).whenSynced, 20_000, 'workspace doc')
      const ws = new WorkspaceCrdt(doc, { device: 'oracle' as DeviceId })
      const out: Tree = new Map()
      for (const [path, id] of ws.pathMap()) {
        const e = ws.get(id)
        if (!e) continue
        if (e.kind === 'folder') {
          out.set(path, { kind: 'dir', hash: '', bytes: new Uint8Array() })
        } else if (e.kind === 'text') {
          const body = new Y.Doc()
          docs.push(body)
          await withTimeout(client.open(`${this.workspace}/${id}`, body).whenSynced, 20_000, path)
          const text = body.getText('body').toJSON()
          out.set(path, fileNode(new TextEncoder().encode(text)))
        } else {
          const stream = e.blob
            ? await downloadBlob({ url, workspace: this.workspace, hash: e.blob })
            : undefined
          const bytes = stream
            ? new Uint8Array(await new Response(stream).arrayBuffer())
            : undefined
          out.set(
            path,
            bytes
              ? fileNode(bytes)
              : { kind: 'file', hash: 'missing-blob', bytes: new Uint8Array() },
          )
        }
      }
      // The virtual lost+found folder is no entry of pathMap(), but devices show it: every
      // parent of a shown path is a shown folder.
      for (const path of [...out.keys()])
        for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1))
          if (!out.has(path.slice(0, i)))
            out.set(path.slice(0, i), { kind: 'dir', hash: '', bytes: new Uint8Array() })
      ws.destroy()
      return out
    } finally {
      client.close()
      for (const d of docs) d.destroy()
    }
  }

  /** Where device `d`'s agent logs go (all its processes, appended). */
  logFile(d: Device): string {
    return join(this.base, `${d.name}.log`)
  }

  /** Every device's agent log, without reconnect noise (for a failure report). */
  dump(): string {
    return this.devices
      .map((d) => {
        let lines: string[] = []
        try {
          lines = readFileSync(this.logFile(d), 'utf8')
            .split('\n')
            .filter((l) => l && !l.includes('sync connection lost'))
        } catch {
          /* never started */
        }
        return `--- ${d.name} agent log (last 400 lines)\n${lines.slice(-400).join('\n')}`
      })
      .join('\n')
  }

  async cleanup(keep = false): Promise<void> {
    await Promise.all(this.devices.map((d) => this.killDevice(d.index)))
    await this.stopServer('SIGKILL')
    await Promise.all(this.devices.map((d) => d.proxy.close()))
    if (!keep) rmSync(this.base, { recursive: true, force: true })
  }

  private dev(i: number): Device {
    const d = this.devices[i]
    if (!d) throw new Error(`chaos: no device ${i}`)
    return d
  }
}

function fileNode(bytes: Uint8Array) {
  return { kind: 'file' as const, hash: sha(bytes), bytes }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`chaos oracle: ${what} did not sync in ${ms} ms`)),
          ms,
        )
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
