/** Real SyncServer + several agents on temp folders, for the agent integration tests. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import WebSocket from 'ws'
import { Agent } from '@skein/agent'
import type { AgentOptions, AgentConflict, AgentIssue } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'
import { SyncServer, FsBlobStore } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'

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
  private readonly agents: TestAgent[] = []

  /** Starts (or restarts, same port and data) the server. */
  async startServer(): Promise<SyncServer> {
    const server = new SyncServer({
      port: this.port,
      store: new LevelDocStore(join(this.base, 'server-docs')),
      blobs: new FsBlobStore(join(this.base, 'server-blobs')),
    })
    this.port = await server.listen()
    this.server = server
    return server
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
    files: Record<string, string> = {},
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
        { errors: t.errors, issues: t.issues, conflicts: t.conflicts, status: t.agent.status() },
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
