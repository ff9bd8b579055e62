/** Counters and gauges of a server, exposed as Prometheus text at `/metrics`. */
export class ServerMetrics {
  connections = 0
  loadedDocs = 0
  framesIn = 0
  framesOut = 0
  bytesIn = 0
  bytesOut = 0
  rejectedUpdates = 0
  closedConnections = new Map<number, number>()
  private readonly timings = new Map<string, { sum: number; count: number }>()

  /** Records one store operation's duration in milliseconds. */
  time(op: string, ms: number): void {
    const t = this.timings.get(op) ?? { sum: 0, count: 0 }
    t.sum += ms / 1000
    t.count++
    this.timings.set(op, t)
  }

  /** Counts a close by code. */
  closed(code: number): void {
    this.closedConnections.set(code, (this.closedConnections.get(code) ?? 0) + 1)
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = []
    const gauge = (name: string, help: string, value: number, type = 'gauge') => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
    }
    gauge('skein_connections_open', 'Open WebSocket connections.', this.connections)
    gauge('skein_docs_loaded', 'Documents held in memory.', this.loadedDocs)
    gauge('skein_frames_in_total', 'Frames received.', this.framesIn, 'counter')
    gauge('skein_frames_out_total', 'Frames sent.', this.framesOut, 'counter')
    gauge('skein_bytes_in_total', 'Bytes received in frames.', this.bytesIn, 'counter')
    gauge('skein_bytes_out_total', 'Bytes sent in frames.', this.bytesOut, 'counter')
    gauge(
      'skein_updates_rejected_total',
      'Updates refused by validation or auth.',
      this.rejectedUpdates,
      'counter',
    )
    lines.push('# HELP skein_connections_closed_total Connections closed by the server, by code.')
    lines.push('# TYPE skein_connections_closed_total counter')
    for (const [code, n] of this.closedConnections)
      lines.push(`skein_connections_closed_total{code="${code}"} ${n}`)
    lines.push(
      '# HELP skein_store_seconds Store operation latency.',
      '# TYPE skein_store_seconds summary',
    )
    for (const [op, t] of this.timings) {
      lines.push(`skein_store_seconds_sum{op="${op}"} ${t.sum}`)
      lines.push(`skein_store_seconds_count{op="${op}"} ${t.count}`)
    }
    return lines.join('\n') + '\n'
  }
}
