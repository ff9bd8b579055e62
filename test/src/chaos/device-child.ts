/**
 * One chaos device: an Agent in its own process (so it can be SIGKILLed),
 * controlled over the IPC channel. Started by `ChaosWorld` with one JSON
 * argument ({@link DeviceConfig}); sends `{type:'ready'}` once started and
 * answers `status`, `resume` and `stop` requests.
 */
import WebSocket from 'ws'
import { Agent } from '@skein/agent'
import type { AgentConflict, AgentIssue } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'
import { installFsFaults } from './fault-fs.js'

/** What the parent passes to a device process. */
export interface DeviceConfig {
  root: string
  url: string
  workspace: string
  device: string
  /** Added to the wall clock (clock-skew fault); 0 for none. */
  clockSkewMs: number
  /** Agent options over the chaos defaults (JSON-serializable ones). */
  agentOptions: Record<string, unknown>
}

/** A device's report, answered to `{type:'status'}`. */
export interface DeviceReport {
  type: 'status'
  status: ReturnType<Agent['status']>
  conflicts: AgentConflict[]
  issues: AgentIssue[]
  errors: string[]
}

const cfg = JSON.parse(process.argv[2] ?? '') as DeviceConfig
if (process.env.SKEIN_CHAOS_FAULTS) installFsFaults(process.env.SKEIN_CHAOS_FAULTS)
const conflicts: AgentConflict[] = []
const issues: AgentIssue[] = []
const errors: string[] = []
const log = (lvl: string) => (msg: string, f?: Record<string, unknown>) => {
  if (lvl !== 'debug' || process.env.SKEIN_CHAOS_DEBUG)
    process.stderr.write(`[${cfg.device} ${lvl}] ${msg} ${JSON.stringify(f ?? {})}\n`)
}
const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
const agent = new Agent({
  root: cfg.root,
  workspace: cfg.workspace,
  device: cfg.device,
  server: cfg.url,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  // A short heartbeat: a half-open link is replaced in about two seconds, not 25.
  heartbeatMs: 500,
  heartbeatTimeoutMs: 1500,
  clock: { now: () => Date.now() + cfg.clockSkewMs },
  debounceMs: 20,
  maxReconnectDelayMs: 300,
  stallTimeoutMs: 3000,
  syncTimeoutMs: 3000,
  rescanIntervalMs: 5000,
  logger,
  ...cfg.agentOptions,
})
agent.on('conflict', (c) => conflicts.push(c))
agent.on('issue', (i) => issues.push(i))
agent.on('error', (e) => {
  errors.push(e.message)
  process.stderr.write(`[${cfg.device} error event] ${e.message}\n`)
})

const send = (m: unknown) => process.send?.(m)

process.on('message', (m: { type: string }) => {
  if (m.type === 'status') {
    const report: DeviceReport = {
      type: 'status',
      status: agent.status(),
      conflicts,
      issues,
      errors,
    }
    send(report)
  } else if (m.type === 'resume') {
    void agent.resume()
  } else if (m.type === 'stop') {
    agent.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`[${cfg.device}] stop failed: ${String(e)}\n`)
        process.exit(1)
      },
    )
  }
})
process.on('disconnect', () => void agent.stop().finally(() => process.exit(0)))

agent.start().then(
  () => send({ type: 'ready' }),
  (e: unknown) => {
    process.stderr.write(`[${cfg.device}] start failed: ${String(e)}\n`)
    process.exit(1)
  },
)
