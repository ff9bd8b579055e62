/**
 * Serving the built web app from Node (for `skein serve --web` and the browser
 * tests): `/` and the SPA fallback get index.html (never cached, so a new build
 * shows at once); hashed `/assets/*` are cached for a year; path traversal is
 * refused; `/_skein/*` and non-GET requests are left to the caller.
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
}

/** Headers every response of the app carries. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

/** The absolute path of the built app (`apps/web/dist/app`). */
export function webDistDir(): string {
  return fileURLToPath(new URL('../dist/app/', import.meta.url))
}

/** A request handler for the built app; returns false for requests it does not serve (the caller answers them). */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => boolean

/** Serves the files of `distDir` (default {@link webDistDir}). */
export function createStaticHandler(distDir: string = webDistDir()): StaticHandler {
  const root = resolve(distDir)
  const index = join(root, 'index.html')
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('Bad request: the path is not valid URL encoding.\n')
      return true
    }
    if (pathname.startsWith('/_skein') || pathname === '/healthz' || pathname === '/metrics')
      return false
    if (pathname.includes('\0')) return refuse(res)
    const file = resolve(root, '.' + pathname)
    if (file !== root && !file.startsWith(root + sep)) return refuse(res)
    let target = file
    let isFile = false
    try {
      isFile = statSync(file).isFile()
    } catch {
      isFile = false
    }
    if (!isFile) {
      // an asset that is not there is a 404, not the page (a stale tab after a deploy)
      if (pathname.startsWith('/assets/') || extname(pathname) !== '') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
        res.end('Not found.\n')
        return true
      }
      if (!existsSync(index)) return false
      target = index
    }
    const immutable = target !== index && pathname.startsWith('/assets/')
    const st = statSync(target)
    res.writeHead(200, {
      'content-type': TYPES[extname(target)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    })
    if (req.method === 'HEAD') res.end()
    else createReadStream(target).pipe(res)
    return true
  }
}

function refuse(res: ServerResponse): true {
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
  res.end('Forbidden: the path leaves the web app folder.\n')
  return true
}
