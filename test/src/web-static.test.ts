/** The web app's static handler (what `skein serve --web` mounts): types, caching, SPA fallback, traversal. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveWeb } from './helpers/web-harness.js'

function get(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; cache: string; body: string }> {
  return new Promise((resolve, reject) => {
    // raw path: fetch() would normalise "/../" away before sending
    const req = request(url + '/', { method, path }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          cache: String(res.headers['cache-control'] ?? ''),
          body,
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe('web static handler', () => {
  let web: Awaited<ReturnType<typeof serveWeb>>
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'skein-web-static-'))
    const dist = join(root, 'dist')
    await mkdir(join(dist, 'assets'), { recursive: true })
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>app</title>')
    await writeFile(join(dist, 'assets', 'index-abc.js'), 'console.log(1)')
    await writeFile(join(dist, 'assets', 'index-abc.css'), 'body{}')
    await writeFile(join(root, 'secret.txt'), 'do not serve')
    web = await serveWeb(dist)
  })
  afterAll(async () => web?.close())

  it('serves / and hashed assets with content types; assets are immutable, the page is revalidated', async () => {
    const page = await get(web.url, '/')
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' })
    const js = await get(web.url, '/assets/index-abc.js')
    expect(js).toMatchObject({
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: 'console.log(1)',
    })
    expect(js.cache).toContain('immutable')
    expect((await get(web.url, '/assets/index-abc.css')).type).toBe('text/css; charset=utf-8')
  })

  it('falls back to index.html for app routes, 404s missing assets, leaves /_skein to the server', async () => {
    expect((await get(web.url, '/w/team/notes')).body).toContain('<title>app</title>')
    expect((await get(web.url, '/assets/gone.js')).status).toBe(404)
    // the harness answers 404 for what the handler declines
    expect((await get(web.url, '/_skein/v1/blobs/x/y')).status).toBe(404)
    expect((await get(web.url, '/', 'POST')).status).toBe(404)
  })

  it('refuses paths that leave the folder', async () => {
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
    ]) {
      const r = await get(web.url, p)
      expect(r.body, p).not.toContain('do not serve')
    }
    expect((await get(web.url, '/assets/..%2f..%2fsecret.txt')).status).toBe(403)
  })
})
