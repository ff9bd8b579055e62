/**
 * Runs one agent in a child process (for SIGKILL tests):
 * `node --conditions=@skein/source --import tsx agent-child.ts <root> <url> <workspace> <device>`.
 * Prints `ready` once started; runs until killed.
 */
import WebSocket from 'ws'
import { Agent } from '@skein/agent'
import type { WebSocketConstructor } from '@skein/client'

const [root, server, workspace, device] = process.argv.slice(2) as [string, string, string, string]
const agent = new Agent({
  root,
  workspace,
  device,
  server,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  debounceMs: 10,
  maxReconnectDelayMs: 200,
})
agent.on('error', (e) => process.stderr.write(`agent error: ${e.message}\n`))
agent.start().then(
  () => process.stdout.write('ready\n'),
  (e: unknown) => {
    process.stderr.write(`start failed: ${String(e)}\n`)
    process.exit(1)
  },
)
