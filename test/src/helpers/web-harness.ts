/**
 * Browser-test harness: builds `apps/web` once per source state, serves it with
 * the app's own static handler on one port next to a real SyncServer on
 * another (the page gets `?server=ws://…`), and drives Debian's Chromium.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { SyncServer, type SyncServerOptions } from '@skein/server'
import { REPO } from './cli.js'

export const CHROMIUM = '/usr/bin/chromium'
const WEB = join(REPO, 'apps', 'web')

/** Throws a clear message when Chromium is missing (never a silent pass). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Browser tests need Debian's Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does).`,
    )
  }
}

function sourceFingerprint(): string {
  const hash = createHash('sha256')
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist') continue
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else hash.update(p).update(readFileSync(p))
    }
  }
  walk(WEB)
  for (const pkg of ['core', 'workspace', 'protocol', 'client'])
    walk(join(REPO, 'packages', pkg, 'src'))
  return hash.digest('hex').slice(0, 16)
}

let built: Promise<string> | undefined

/** Builds the web app into a temp folder named after its sources (reused by every test file of a run). */
export function buildWeb(): Promise<string> {
  built ??= (async () => {
    const out = join(tmpdir(), `skein-web-${sourceFingerprint()}`)
    if (existsSync(join(out, 'index.html'))) return out
    const tmp = `${out}.tmp-${process.pid}`
    const vite = join(WEB, 'node_modules', 'vite', 'bin', 'vite.js')
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [vite, 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'],
        {
          cwd: WEB,
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      )
      child.on('error', reject)
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`vite build failed (exit ${code})`)),
      )
    })
    try {
      renameSync(tmp, out)
    } catch {
      rmSync(tmp, { recursive: true, force: true }) // another test file won the race
    }
    return out
  })()
  return built
}

type StaticHandler = (req: IncomingMessage, res: ServerResponse) => boolean
interface StaticModule {
  createStaticHandler(distDir?: string): StaticHandler
}

/** Serves a built app with `createStaticHandler` from apps/web/server/static.ts. */
export async function serveWeb(distDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const mod = (await import(pathToFileURL(join(WEB, 'server', 'static.ts')).href)) as StaticModule
  const handle = mod.createStaticHandler(distDir)
  const server: Server = createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** A running sync server plus the web app. */
export interface WebStack {
  sync: SyncServer
  web: { url: string; close(): Promise<void> }
  browser: Browser
  /** The page address of a workspace. */
  pageUrl(workspace: string, opts?: { token?: string; device?: string }): string
  /** A fresh browser profile (its own IndexedDB and localStorage): one "device". */
  newDevice(): Promise<BrowserContext>
  close(): Promise<void>
}

export async function startWebStack(options: Partial<SyncServerOptions> = {}): Promise<WebStack> {
  requireChromium()
  const dist = await buildWeb()
  const sync = new SyncServer(options)
  await sync.listen()
  const web = await serveWeb(dist)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  const contexts: BrowserContext[] = []
  return {
    sync,
    web,
    browser,
    pageUrl(workspace, o = {}) {
      const q = new URLSearchParams({ server: sync.url })
      if (o.device) q.set('device', o.device)
      return `${web.url}/?${q.toString()}#/w/${encodeURIComponent(workspace)}${o.token ? `?token=${o.token}` : ''}`
    },
    async newDevice() {
      const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } })
      contexts.push(ctx)
      return ctx
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined)
      await browser.close().catch(() => undefined)
      await web.close()
      await sync.close()
    },
  }
}

/** The visible text of the primary editor. */
export function editorText(page: Page, pane = 'primary'): Promise<string> {
  return page.evaluate(
    (p) =>
      (
        window as unknown as {
          skein?: Record<string, { editor?: { state: { doc: { toString(): string } } } }>
        }
      ).skein?.[p]?.editor?.state.doc.toString() ?? '',
    pane,
  )
}

/** The tree item showing `path`. */
export function treeItem(page: Page, path: string) {
  return page.locator(`[role=treeitem][data-path="${path}"]`)
}

/** Creates a note through the UI (New note → name → OK); it opens in the editor. */
export async function createNoteViaUi(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'New note' }).click()
  const input = page.getByRole('dialog').getByRole('textbox')
  await input.fill(name)
  await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click()
  await page.locator('.cm-content').waitFor()
}

/** Opens a note by clicking it in the tree and waits for its editor. */
export async function openNote(page: Page, path: string): Promise<void> {
  await treeItem(page, path).click()
  await page.locator(`[data-pane=primary] .cm-content`).waitFor()
}

/** The sync status element. */
export function statusOf(page: Page) {
  return page.getByTestId('sync-status')
}
