/**
 * Measures one watcher alone in a fresh process (benchmarks):
 * `agent-watch-probe.ts <root> <native|chokidar|chokidar-defaults>` prints
 * `{"readyMs":…,"rssMB":…}` — time until the watcher is ready, RSS growth.
 */
import { ChokidarWatcher, NativeWatcher, createIgnoreMatcher } from '@skein/agent'

const [root, kind] = process.argv.slice(2) as [string, string]
const gc = (globalThis as { gc?: () => void }).gc
gc?.()
const rss0 = process.memoryUsage().rss
const t0 = performance.now()
const ignore = createIgnoreMatcher()
// chokidar-defaults: the options our ChokidarWatcher tunes, put back to chokidar's defaults.
const defaults = {
  ignored: [],
  followSymlinks: true,
  ignoreInitial: false,
  atomic: true,
  ignorePermissionErrors: false,
}
const w =
  kind === 'native'
    ? new NativeWatcher(root, ignore)
    : new ChokidarWatcher(root, ignore, kind === 'chokidar-defaults' ? { chokidar: defaults } : {})
await w.start()
const close = () => w.close()
const readyMs = performance.now() - t0
gc?.()
const rssMB = (process.memoryUsage().rss - rss0) / 1e6
process.stdout.write(JSON.stringify({ readyMs, rssMB }) + '\n')
await close()
process.exit(0)
