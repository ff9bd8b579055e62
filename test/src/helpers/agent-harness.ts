/** Real SyncServer + several agents on temp folders, for the agent integration tests. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { Agent } from '@skein/agent'
import type { AgentOptions, AgentConflict, AgentIssue } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'
import { SyncServer, FsBlobStore } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import type { DeviceId, FileId } from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import { newClient, waitFor } from './server-helpers.js'

/** Polls `cond` until it holds; throws naming `what` after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A file's text, or undefined when it does not exist. */
export function readText(root: string, path: string): string | undefined {
  const abs = join(root, path)
  return existsSync(abs) ? readFileSync(abs, 'utf8') : undefined
}

/** Writes a file, creating folders. */
export function put(root: string, path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), data)
}

/**
 * Every file under `root` (the agent's `.skein` excluded) as path → text, and
 * every folder as `path/` → '' — the whole visible state of a folder, to
 * compare two devices.
 */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  walk(
    root,
    (rel, abs) => (out[rel] = readFileSync(abs, 'utf8')),
    (rel) => (out[`${rel}/`] = ''),
  )
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Calls `onFile` / `onFolder` for everything under `root` except the agent's `.skein`. */
function walk(
  root: string,
  onFile: (rel: string, abs: string) => void,
  onFolder: (rel: string) => void = () => {},
): void {
  const visit = (dir: string) => {
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${d.name}` : d.name
      if (rel === '.skein') continue
      if (d.isDirectory()) {
        onFolder(rel)
        visit(rel)
      } else onFile(rel, join(root, rel))
    }
  }
  visit('')
}

/** Every file under `root` (`.skein` excluded) with its size and first bytes, for failure dumps. */
function listing(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (existsSync(root))
    walk(root, (rel, abs) => {
      const bytes = readFileSync(abs)
      out[rel] = `${bytes.length} B ${JSON.stringify(bytes.subarray(0, 40).toString('latin1'))}`
    })
  return out
}

/** One agent under test with what it reported. */
export interface TestAgent {
  name: string
  root: string
  agent: Agent
  conflicts: AgentConflict[]
  issues: AgentIssue[]
  errors: Error[]
  /** Debug log lines of this agent. */
  log: string[]
}

/** Owns a server (restartable on the same port, durable store) and agents; `cleanup()` in afterEach. */
export class AgentHarness {
  server: SyncServer | undefined
  port = 0
  readonly workspace = `ws${Math.random().toString(36).slice(2, 10)}`
  private readonly base = mkdtempSync(join(tmpdir(), 'skein-agent-it-'))
  /** Every agent started, in order (a restarting one is here before its start() returns). */
  readonly agents: TestAgent[] = []

  /** Starts (or restarts, same port and data) the server. */
  async startServer(): Promise<SyncServer> {
    const server = this.makeServer(this.port)
    this.port = await server.listen()
    this.server = server
    return server
  }

  private makeServer(port: number): SyncServer {
    return new SyncServer({
      port,
      store: new LevelDocStore(join(this.base, 'server-docs')),
      blobs: new FsBlobStore(join(this.base, 'server-blobs')),
    })
  }

  /** Deletes everything the (stopped) server stored: a server that lost its data. */
  wipeServerData(): void {
    if (this.server) throw new Error('stop the server before wiping its data')
    rmSync(join(this.base, 'server-docs'), { recursive: true, force: true })
    rmSync(join(this.base, 'server-blobs'), { recursive: true, force: true })
  }

  /**
   * Runs `fn` against the (stopped) server's data served on a port no agent
   * knows — e.g. another device restoring the workspace — then stops it.
   */
  async offstage(fn: (url: string) => Promise<void>): Promise<void> {
    if (this.server) throw new Error('stop the server before using its data off stage')
    const server = this.makeServer(0)
    const port = await server.listen()
    try {
      await fn(`ws://127.0.0.1:${port}`)
    } finally {
      await server.close()
    }
  }

  /** Stops the server (agents go offline). */
  async stopServer(): Promise<void> {
    await this.server?.close()
    this.server = undefined
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** Creates a folder with `files` and starts an agent on it. */
  async agent(
    name: string,
    files: Record<string, string | Uint8Array> = {},
    opts: Partial<AgentOptions> = {},
    root?: string,
  ): Promise<TestAgent> {
    const dir = root ?? join(this.base, name)
    mkdirSync(dir, { recursive: true })
    for (const [p, c] of Object.entries(files)) put(dir, p, c)
    const log: string[] = []
    const line = (lvl: string) => (msg: string, f?: Record<string, unknown>) =>
      void log.push(`${name} ${lvl} ${msg} ${JSON.stringify(f ?? {})}`)
    const agent = new Agent({
      logger: {
        debug: line('debug'),
        info: line('info'),
        warn: line('warn'),
        error: line('error'),
      },
      root: dir,
      workspace: this.workspace,
      device: name,
      server: this.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      debounceMs: 10,
      rescanIntervalMs: 0,
      maxReconnectDelayMs: 200,
      stallTimeoutMs: 2000,
      ...opts,
    })
    const t: TestAgent = { name, root: dir, agent, conflicts: [], issues: [], errors: [], log }
    agent.on('conflict', (c) => t.conflicts.push(c))
    agent.on('issue', (i) => t.issues.push(i))
    agent.on('error', (e) => t.errors.push(e))
    this.agents.push(t)
    await agent.start()
    return t
  }

  /** Stops one agent (keeps its folder and state). */
  async stopAgent(t: TestAgent): Promise<void> {
    await t.agent.stop()
    this.agents.splice(this.agents.indexOf(t), 1)
  }

  /** Prints every agent's debug log, files and reports (call when a test failed). */
  dump(): void {
    for (const t of this.agents)
      console.log(
        `--- agent ${t.name}`,
        {
          errors: t.errors,
          issues: t.issues,
          conflicts: t.conflicts,
          status: t.agent.status(),
          files: listing(t.root),
        },
        t.log.join('\n'),
      )
  }

  /** Stops everything; pass the test context to dump the logs of a failed test. */
  async cleanup(ctx?: { task: { result?: { state?: string } } }): Promise<void> {
    if (ctx?.task.result?.state === 'fail') this.dump()
    await Promise.all(this.agents.splice(0).map((t) => t.agent.stop().catch(() => undefined)))
    await this.stopServer()
    rmSync(this.base, { recursive: true, force: true })
  }
}

/**
 * Another device writing to the workspace on the server at `url` through a
 * plain SyncClient, with no agent: its entries have no content until the test
 * sends some ({@link RemoteDevice.seed}, or a blob upload). `close()` when done.
 */
export async function remoteDevice(url: string, workspace: string, device: string) {
  const client = newClient(url)
  const doc = new Y.Doc()
  const handle = client.open(workspace, doc)
  await handle.whenSynced
  return {
    ws: new WorkspaceCrdt(doc, { device: device as DeviceId }),
    /** Resolves once the server acknowledged everything written so far. */
    stored: (what: string) => waitFor(() => handle.unsyncedChanges === 0, what),
    /** Writes a note's body (the entry's generation and `text`) and waits for it to be stored. */
    async seed(id: FileId, text: string): Promise<void> {
      const body = new Y.Doc()
      const h = client.open(`${workspace}/${id}`, body)
      await h.whenSynced
      body.transact(() => {
        body.getMap('meta').set('gen', this.ws.get(id)!.gen)
        body.getText('body').insert(0, text)
      })
      await waitFor(() => h.unsyncedChanges === 0, `the text of ${id} to be stored`)
    },
    close: () => client.close(),
  }
}
