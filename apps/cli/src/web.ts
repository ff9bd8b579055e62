import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createStaticHandler, webDistDir } from '@skein/web/server'

/** The built browser editor's request handler, or why it is not available. */
export function webHandler(options: {
  build: boolean
  log: (line: string) => void
}): ((req: IncomingMessage, res: ServerResponse) => boolean) | string {
  const dist = webDistDir()
  if (!existsSync(join(dist, 'index.html')) && options.build) {
    // Build once on first use (from a source checkout): `vite build` in apps/web.
    const appDir = join(dist, '..', '..')
    options.log('building the web editor (first run only)…')
    const r = spawnSync(
      process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm',
      ['--filter', '@skein/web', 'build'],
      { cwd: dirname(appDir), stdio: 'ignore', timeout: 180_000 },
    )
    if (r.status !== 0)
      return 'the web editor could not be built; run "pnpm --filter @skein/web build" to see why'
  }
  if (!existsSync(join(dist, 'index.html')))
    return `the web editor is not built (${dist} has no index.html); run "pnpm --filter @skein/web build"`
  return createStaticHandler(dist)
}
