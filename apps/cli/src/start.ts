/**
 * `pnpm start`: Skein on embedded defaults — a server on 127.0.0.1 with LevelDB
 * under `.skein-data/`, an agent syncing `./workspace/` (seeded with example
 * notes), and snapshots of it to `.skein-data/backups/` every 15 minutes.
 * Ctrl-C stops all of it cleanly.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { backup, FolderProvider } from '@skein/cloud'
import { defaultDevice, startAgent } from './commands/sync.js'
import { startServer } from './commands/serve.js'
import { webHandler } from './web.js'
import { count } from './plural.js'

const EXAMPLES: Record<string, string> = {
  'Welcome.md':
    '# Welcome to Skein\n\nEdit this file with any editor: the change reaches every device syncing this workspace.\n\nRun `pnpm skein sync <another folder> --server <url> --workspace default` to add a second device.\n',
  'ideas/Sync ideas.md':
    '# Ideas\n\n- Offline edits merge three-way on reconnect.\n- Conflicts are saved next to the note, never lost.\n',
  'journal/2026-11-22.md': '# Journal\n\nToday I set up Skein.\n',
}

async function main(): Promise<void> {
  const cwd = process.cwd()
  const data = resolve(process.env.SKEIN_DATA ?? join(cwd, '.skein-data'))
  const root = resolve(process.env.SKEIN_WORKSPACE_DIR ?? join(cwd, 'workspace'))
  const backups = join(data, 'backups')
  const everyMs = Number(process.env.SKEIN_BACKUP_EVERY_MS ?? 15 * 60_000)
  if (!existsSync(root)) {
    for (const [path, text] of Object.entries(EXAMPLES)) {
      mkdirSync(join(root, path, '..'), { recursive: true })
      writeFileSync(join(root, path), text)
    }
    console.log(`seeded ${root} with ${Object.keys(EXAMPLES).length} example notes`)
  }
  mkdirSync(backups, { recursive: true })
  const web = webHandler({ build: true, log: (l) => console.log(l) })
  const webOpt = typeof web === 'function' ? { web } : {}
  let started: Awaited<ReturnType<typeof startServer>>
  const port = Number(process.env.SKEIN_PORT ?? 4321)
  try {
    started = await startServer({
      host: '127.0.0.1',
      port,
      data,
      auth: 'open',
      quiet: true,
      ...webOpt,
    })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
    console.log(`port ${port} is busy; using a free port`)
    started = await startServer({
      host: '127.0.0.1',
      port: 0,
      data,
      auth: 'open',
      quiet: true,
      ...webOpt,
    })
  }
  const { server, url } = started
  let agent: Awaited<ReturnType<typeof startAgent>>['agent']
  try {
    agent = (
      await startAgent({
        root,
        server: url,
        workspace: 'default',
        device: defaultDevice(),
        conflict: 'copy',
      })
    ).agent
  } catch (e) {
    await server.close()
    throw e
  }
  const provider = new FolderProvider(backups)
  let backingUp: Promise<void> | undefined
  const snapshot = () => {
    backingUp ??= backup({ provider, source: root, label: `start:${root}` })
      .then((r) =>
        console.log(
          `snapshot ${r.snapshot.id}: ${count(r.snapshot.fileCount, 'file')} (${count(r.blobsUploaded, 'new blob')})`,
        ),
      )
      .catch((e: unknown) => console.error(`backup failed: ${(e as Error).message}`))
      .finally(() => (backingUp = undefined))
    return backingUp
  }
  await snapshot()
  const timer = setInterval(() => void snapshot(), everyMs)
  console.log(`
Skein is running:
  server      ${url}  (LevelDB in ${join(data, 'db')}, auth open on loopback)
  workspace   "default", synced with ${root}
  backups     every ${Math.round(everyMs / 60_000)} min to ${backups}  (pnpm skein snapshots ${backups})
  web editor  ${typeof web === 'function' ? `${url.replace(/^ws/, 'http')}/#/w/default` : web}
Edit files in ${root}; add a device with:
  pnpm skein sync <folder> --server ${url} --workspace default
Press Ctrl-C to stop.`)
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done())
    process.once('SIGTERM', () => done())
  })
  console.log('\nstopping…')
  clearInterval(timer)
  await backingUp
  await agent.stop()
  await server.close()
  console.log('stopped')
}

main().catch((e: unknown) => {
  console.error(`skein start: ${(e as Error).message}`)
  process.exitCode = 1
})
