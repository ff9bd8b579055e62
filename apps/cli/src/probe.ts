import WebSocket from 'ws'

/** What a quick connection attempt to a server told us. */
export type ProbeResult =
  { ok: true } | { ok: false; reason: 'unreachable' | 'unauthorized' | 'forbidden'; detail: string }

/**
 * Opens the workspace's room on the y-websocket-compatible endpoint once:
 * the server answers with sync step 1 when the token (if any) is accepted, and
 * closes with 4401/4403 when not. Lets `skein sync` refuse a bad token or an
 * unknown server with a clear message before starting the agent.
 */
export function probeServer(
  server: string,
  workspace: string,
  token: string | undefined,
  timeoutMs = 5000,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = `${server.replace(/\/$/, '')}/${encodeURIComponent(workspace)}${token ? `?token=${encodeURIComponent(token)}` : ''}`
    let settled = false
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs })
    const done = (r: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => undefined)
      ws.terminate()
      resolve(r)
    }
    // No answer in time: don't block the agent (it retries on its own).
    const timer = setTimeout(() => done({ ok: true }), timeoutMs)
    ws.on('message', () => done({ ok: true }))
    ws.on('close', (code, reason) => {
      const why = reason.toString() || `close code ${code}`
      if (code === 4401) done({ ok: false, reason: 'unauthorized', detail: why })
      else if (code === 4403) done({ ok: false, reason: 'forbidden', detail: why })
      else done({ ok: false, reason: 'unreachable', detail: why })
    })
    ws.on('error', (e) => done({ ok: false, reason: 'unreachable', detail: e.message }))
  })
}
