/**
 * One device agent in its own process, for the benchmarks: its time, CPU and
 * RSS are measured apart from the server's and the other agent's.
 * `agent-bench-child.ts <root> <url> <workspace> <device> [bodyIdleMs]`, run
 * with an IPC channel: sends `{ begin, started }` once `start()` resolved
 * (`begin`: wall clock when the agent was created, after module loading); answers
 * `stats` with `{ known, rss, cpuUs (since the agent was created), pending, openBodies }`; `stop` stops the
 * agent and exits.
 */
import WebSocket from 'ws'
import { Agent } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'

const [root, server, workspace, device, idle] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string | undefined,
]
const agent = new Agent({
  root,
  workspace,
  device,
  server,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  rescanIntervalMs: 0,
  debounceMs: 20,
  bodyIdleMs: Number(idle ?? 60_000),
})
agent.on('error', (e) => process.stderr.write(`agent ${device} error: ${e.message}\n`))
const send = (m: unknown) => process.send?.(m)
const begin = Date.now()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
await agent.start()
send({ begin, started: performance.now() - t0 })
process.on('message', (m) => {
  if (m === 'stats') {
    const cpu = process.cpuUsage(cpu0)
    const st = agent.status()
    send({
      known: agent.knownFiles().length,
      rss: process.memoryUsage().rss,
      cpuUs: cpu.user + cpu.system,
      pending: st.pendingFiles,
      openBodies: st.openBodies,
      connection: st.connection,
    })
  } else if (m === 'stop') {
    void agent.stop().then(() => process.exit(0))
  }
})
