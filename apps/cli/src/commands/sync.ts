import { existsSync, mkdirSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, resolve } from 'node:path'
import WebSocket from 'ws'
import { Agent, type AgentIssue, type ConflictPolicy, type TrashRecord } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'
import { SkeinError, asDeviceId, asWorkspaceId, isSkeinError } from '@skein/core'
import { str, type Command } from '../command.js'
import { UsageError } from '../exit-codes.js'
import { answerRequests, type AgentReply, type AgentRequest } from '../agent-requests.js'
import { publishStatus, readStatus } from '../status-file.js'
import { probeServer } from '../probe.js'

/** A device name from the host name, made valid (letters, digits, `.`, `_`, `-`). */
export function defaultDevice(): string {
  const h = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
  return (h || 'device').slice(0, 64)
}

function valid<T>(flag: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`)
  }
}

/** Starts an agent with the CLI's conventions; publishes its status for `skein status`. */
export async function startAgent(o: {
  root: string
  server: string
  workspace: string
  device: string
  token?: string | undefined
  conflict: ConflictPolicy
  syncTimeoutMs?: number
}) {
  const errors: Error[] = []
  const issues: AgentIssue[] = []
  const agent = new Agent({
    root: o.root,
    server: o.server,
    workspace: o.workspace,
    device: o.device,
    token: o.token ?? '',
    conflictPolicy: o.conflict,
    ...(o.syncTimeoutMs ? { syncTimeoutMs: o.syncTimeoutMs } : {}),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  })
  let trash: TrashRecord[] = []
  const publish = () =>
    publishStatus(o.root, {
      pid: process.pid,
      updatedAt: Date.now(),
      server: o.server,
      workspace: o.workspace,
      device: o.device,
      status: agent.status(),
      conflicts: agent.openConflicts(),
      issues: issues.slice(-100),
      trash,
    })
  // the trash is read from the agent's store (async): re-read after sync activity, one read at a time
  let reading: Promise<void> | undefined
  let again = false
  const refreshTrash = (): Promise<void> => {
    if (reading) {
      again = true
      return reading
    }
    reading = (async () => {
      do {
        again = false
        const now = await agent.listTrash().catch(() => trash)
        if (JSON.stringify(now) === JSON.stringify(trash)) continue
        trash = now
        publish()
      } while (again)
    })().finally(() => (reading = undefined))
    return reading
  }
  agent.on('conflict', () => publish())
  agent.on('issue', (i) => {
    issues.push(i)
    publish()
  })
  agent.on('status', () => {
    publish()
    void refreshTrash()
  })
  agent.on('error', (e) => errors.push(e))
  await agent.start()
  publish()
  await refreshTrash()
  serveRequests(o.root, agent, refreshTrash)
  return { agent, issues, errors, publish }
}

/** How often a running agent looks for requests from other commands (see agent-requests.ts). */
const REQUEST_POLL_MS = 300

/** Answers `skein trash restore` while the agent runs, until it stops. */
function serveRequests(root: string, agent: Agent, refreshTrash: () => Promise<void>): void {
  const handle = async (req: AgentRequest): Promise<AgentReply> => {
    const rec = await agent.restoreFromTrash(req.path)
    if (!rec)
      return {
        ok: false,
        code: 'NOT_FOUND',
        message: `"${req.path}" is not in the trash of ${root}; see "skein trash ${root}"`,
      }
    await refreshTrash()
    return { ok: true, path: rec.path }
  }
  let busy = false
  const timer = setInterval(() => {
    if (agent.status().state === 'stopped') return clearInterval(timer)
    if (busy) return
    busy = true
    void answerRequests(root, handle).finally(() => (busy = false))
  }, REQUEST_POLL_MS)
  timer.unref()
}

/** Resolves when the agent is online (or a fatal error was reported), or after `ms`. */
function waitOnline(agent: Agent, ms: number): Promise<void> {
  return new Promise((done) => {
    if (agent.status().connection === 'online') return done()
    const timer = setTimeout(finish, ms)
    const offs = [
      agent.on('status', (s) => s.connection === 'online' && finish()),
      agent.on('error', finish),
    ]
    function finish() {
      clearTimeout(timer)
      for (const off of offs) off()
      done()
    }
  })
}

/** Stops the agent, giving up after 10 s so a stuck socket cannot keep the CLI alive. */
export async function stopAgent(agent: Agent): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([agent.stop(), new Promise<void>((r) => (timer = setTimeout(r, 10_000)))])
  clearTimeout(timer)
}

export const sync: Command = {
  spec: {
    name: 'sync',
    summary:
      'Keep a folder in sync with a workspace on a Skein server (runs the device agent in the foreground; Ctrl-C stops it).',
    positionals: [{ name: 'DIR', required: true, desc: 'the folder to keep in sync' }],
    flags: {
      server: {
        type: 'string',
        desc: 'server URL, e.g. ws://127.0.0.1:4321',
        env: 'SKEIN_SERVER',
        config: 'server',
      },
      workspace: {
        type: 'string',
        desc: 'workspace id',
        env: 'SKEIN_WORKSPACE',
        config: 'workspace',
      },
      device: {
        type: 'string',
        desc: "this device's name (default: host name)",
        env: 'SKEIN_DEVICE',
        config: 'device',
      },
      token: {
        type: 'string',
        desc: 'access token (from "skein token create")',
        env: 'SKEIN_TOKEN',
        config: 'token',
      },
      conflict: {
        type: 'string',
        choices: ['copy', 'markers', 'ours', 'theirs'],
        desc: 'conflict policy',
        default: 'copy',
        env: 'SKEIN_CONFLICT',
        config: 'conflict',
      },
    },
  },
  configDir: (p) => p[0],
  async run(ctx) {
    const root = resolve(ctx.positionals[0] as string)
    // A new device's folder is made for it (once the server answered); a missing
    // parent is more likely a typo or an unmounted disk than a wish.
    const create = !existsSync(root)
    if (create && !existsSync(dirname(root)))
      throw new UsageError(
        `neither ${root} nor its parent folder exists; check the path (or create the parent first)`,
      )
    if (!create && !statSync(root).isDirectory())
      throw new UsageError(`${root} is a file; give the folder to sync`)
    const server = str(ctx.flags.server)
    if (!server)
      throw new UsageError(
        '--server is required (or SKEIN_SERVER, or "server" in skein.config.json)',
      )
    if (!/^wss?:\/\/[^/]+\/?$/.test(server))
      throw new UsageError(
        `--server: "${server}" is not a ws:// or wss:// URL such as ws://127.0.0.1:4321`,
      )
    const workspace = valid('workspace', () => asWorkspaceId(str(ctx.flags.workspace)))
    const device = valid('device', () => asDeviceId(str(ctx.flags.device) ?? defaultDevice()))
    const syncedBefore = typeof readStatus(root)?.status.lastSync === 'number'
    const token = str(ctx.flags.token)
    const probe = await probeServer(server, workspace, token)
    if (!probe.ok && probe.reason !== 'unreachable') {
      throw new SkeinError(
        probe.reason === 'unauthorized' ? 'NOT_AUTHORIZED' : 'FORBIDDEN',
        `${server} refused ${token ? 'the token' : 'to connect without a token'} for workspace ${workspace} (${probe.detail}); create a token with "skein token create --workspace ${workspace}" and pass it with --token.`,
      )
    }
    if (!probe.ok && !syncedBefore) {
      throw new SkeinError(
        'TRANSIENT',
        `cannot reach ${server} (${probe.detail}); check --server and that "skein serve" is running there.`,
      )
    }
    if (create) {
      mkdirSync(root)
      ctx.err(`created ${root}`)
    }
    const timeout = Number(ctx.env.SKEIN_SYNC_TIMEOUT_MS ?? 10_000)
    const { agent, errors } = await startAgent({
      root,
      server: server.replace(/\/$/, ''),
      workspace,
      device,
      token: str(ctx.flags.token),
      conflict: str(ctx.flags.conflict) as ConflictPolicy,
      syncTimeoutMs: timeout,
    })
    await waitOnline(agent, timeout)
    const refused = errors.find(
      (e) => isSkeinError(e, 'NOT_AUTHORIZED') || isSkeinError(e, 'FORBIDDEN'),
    )
    if (refused || (!syncedBefore && agent.status().connection === 'offline')) {
      await stopAgent(agent)
      if (refused)
        throw new SkeinError(
          'NOT_AUTHORIZED',
          `${server} refused the connection: ${refused.message} Check --token (create one with "skein token create --workspace ${workspace}").`,
        )
      throw new SkeinError(
        'TRANSIENT',
        `cannot reach ${server} (no sync within ${timeout / 1000}s); check --server and that "skein serve" is running there.`,
      )
    }
    if (agent.status().connection === 'offline')
      ctx.err(
        `cannot reach ${server} now; working offline and retrying (edits are kept and merged on reconnect)`,
      )
    const line = () => {
      const s = agent.status()
      return `${s.state === 'paused' ? `PAUSED (${s.pausedReason ?? ''})` : s.connection}  pending ${s.pendingFiles}  conflicts ${s.conflicts}  last sync ${s.lastSync ? new Date(s.lastSync).toLocaleTimeString() : '-'}`
    }
    ctx.err(`syncing ${root} with ${server} workspace ${workspace} as ${device}`)
    let last = ''
    const show = () => {
      const l = line()
      if (l === last) return
      last = l
      if (ctx.tty) process.stderr.write(`\r${l}\x1b[K`)
      else ctx.err(l)
    }
    const offStatus = agent.on('status', show)
    const offIssue = agent.on('issue', (i) =>
      ctx.err(`${ctx.tty ? '\n' : ''}skipped ${i.path}: ${i.message}`),
    )
    const offConflict = agent.on('conflict', (c) =>
      ctx.err(
        `${ctx.tty ? '\n' : ''}conflict in ${c.path}${c.copyPath ? `: other version saved as ${c.copyPath}` : ` (${c.policy})`}`,
      ),
    )
    show()
    await new Promise<void>((done) =>
      ctx.signal.addEventListener('abort', () => done(), { once: true }),
    )
    offStatus()
    offIssue()
    offConflict()
    if (ctx.tty) process.stderr.write('\n')
    ctx.err('stopping…')
    await stopAgent(agent)
    return 0
  },
}
