import type { SyncProgress } from '@skein/cloud'

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`

/** Renders SyncProgress as a one-line bar on a TTY (rate, ETA) or as plain stage lines otherwise. */
export function progressPrinter(
  tty: boolean,
  write: (s: string) => void,
): { update(p: SyncProgress): void; done(): void } {
  const start = Date.now()
  let lastStage = ''
  let lastDraw = 0
  return {
    update(p) {
      if (!tty) {
        if (p.stage !== lastStage)
          write(`${p.stage}${p.total ? ` (${p.total} operations, ${mb(p.totalBytes)})` : ''}\n`)
        lastStage = p.stage
        return
      }
      const now = Date.now()
      if (now - lastDraw < 100 && p.stage !== 'complete') return
      lastDraw = now
      const secs = Math.max(0.001, (now - start) / 1000)
      const rate = p.bytes / secs
      const eta =
        rate > 0 && p.totalBytes > p.bytes ? `${Math.ceil((p.totalBytes - p.bytes) / rate)}s` : '-'
      const frac = p.total ? p.current / p.total : 0
      const bar = '#'.repeat(Math.round(frac * 20)).padEnd(20, '.')
      write(
        `\r${p.stage.padEnd(16)} [${bar}] ${p.current}/${p.total} files ${mb(p.bytes)}/${mb(p.totalBytes)} ${mb(rate)}/s ETA ${eta}   `,
      )
    },
    done() {
      if (tty) write('\n')
    },
  }
}
