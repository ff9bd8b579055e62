/**
 * HTTP-level fault injection for S3Provider: a proxy in front of a real s3rver
 * answers some requests with 500, 503 SlowDown, a reset connection, a hang or a
 * truncated body. Retries (the engine's by default, the SDK's when configured
 * for direct use) must ride them out, exactly one layer must retry, and once
 * retries are exhausted the errors must be classified retryable.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, request } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_OPTIONS, SyncEngine, bytesStream, readAll } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import type { S3ProviderOptions } from '@skein/cloud-s3'
import { sha256HexSync } from '@skein/core/node'
import { expectConverged } from './cloud-sync-check.js'
import { startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

type Fault = '500' | 'slowdown' | 'reset' | 'hang' | 'truncate'
interface Proxy {
  endpoint: string
  queue: { method: string; fault: Fault }[]
  injected: number
  /** Requests received, by method (faulted ones included). */
  seen: Record<string, number>
  server: Server
}

function startProxy(target: string): Promise<Proxy> {
  const t = new URL(target)
  const proxy: Proxy = {
    endpoint: '',
    queue: [],
    injected: 0,
    seen: {},
    server: undefined as unknown as Server,
  }
  proxy.server = createServer((req, res) => {
    const m = req.method ?? '?'
    proxy.seen[m] = (proxy.seen[m] ?? 0) + 1
    const i = proxy.queue.findIndex((q) => q.method === req.method)
    const fault = i >= 0 ? proxy.queue.splice(i, 1)[0]!.fault : undefined
    if (fault) proxy.injected++
    if (fault === '500' || fault === 'slowdown') {
      req.resume()
      const code = fault === '500' ? 'InternalError' : 'SlowDown'
      res.writeHead(fault === '500' ? 500 : 503, { 'content-type': 'application/xml' })
      return void res.end(
        `<?xml version="1.0"?><Error><Code>${code}</Code><Message>injected</Message></Error>`,
      )
    }
    if (fault === 'reset') return void req.socket.destroy()
    if (fault === 'hang') return void req.resume() // never answer
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        if (fault !== 'truncate') return void r.pipe(res)
        let sent = 0
        r.on('data', (c: Buffer) => {
          if (sent === 0) res.write(c.subarray(0, Math.max(1, c.length >> 1)))
          sent += c.length
        })
        r.on('end', () => res.socket?.destroy())
      },
    )
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  return new Promise((resolve) =>
    proxy.server.listen(0, '127.0.0.1', () => {
      proxy.endpoint = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`
      resolve(proxy)
    }),
  )
}

let server: S3rverHandle
let proxy: Proxy
const temps: string[] = []
beforeAll(async () => {
  server = await startS3rver()
  proxy = await startProxy(server.endpoint)
})
afterAll(async () => {
  proxy.server.closeAllConnections()
  proxy.server.close()
  await server.stop()
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})
let n = 0
const make = (o: Partial<S3ProviderOptions> = {}) =>
  new S3Provider({
    bucket: 'skein-test',
    prefix: `sf${++n}/`,
    endpoint: proxy.endpoint,
    credentials: server.credentials,
    ...o,
  })
const body = Buffer.from('payload '.repeat(100))
const meta = { size: body.length, sha256: sha256HexSync(body), mtime: 1 }

describe('S3Provider under HTTP faults', () => {
  it('S3F1 configured for direct use (maxAttempts 4), the provider retries 500, 503 SlowDown and reset connections with back-off, then succeeds', async () => {
    const p = make({ maxAttempts: 4 })
    proxy.injected = 0
    proxy.queue.push(
      { method: 'PUT', fault: '500' },
      { method: 'PUT', fault: 'slowdown' },
      { method: 'PUT', fault: 'reset' },
    )
    await p.upload('a', bytesStream(body), meta)
    proxy.queue.push({ method: 'GET', fault: 'slowdown' }, { method: 'HEAD', fault: '500' })
    expect((await p.head('a'))?.sha256).toBe(meta.sha256)
    expect(sha256HexSync(await readAll((await p.download('a'))!.body))).toBe(meta.sha256)
    expect(proxy.injected).toBe(5)
    await p.close()
  })

  it('S3F2 once attempts run out, each fault is a classified, retryable SkeinError', async () => {
    const p = make({ maxAttempts: 1, requestTimeoutMs: 300 })
    const cases: [Fault, string][] = [
      ['500', 'TRANSIENT'],
      ['slowdown', 'RATE_LIMITED'],
      ['reset', 'TRANSIENT'],
      ['hang', 'TRANSIENT'],
    ]
    for (const [fault, code] of cases) {
      proxy.queue.push({ method: 'HEAD', fault })
      const err = await p.head('whatever').catch((e: unknown) => e)
      expect(err, fault).toMatchObject({ code, retryable: true })
      expect(String((err as Error).message), fault).toMatch(/S3 head .* failed/)
      // Small uploads take the lightweight PUT path: classified the same way.
      proxy.queue.push({ method: 'PUT', fault })
      const perr = await p.upload('k', bytesStream(body), meta).catch((e: unknown) => e)
      expect(perr, `PUT ${fault}`).toMatchObject({ code, retryable: true })
      expect(String((perr as Error).message), fault).toMatch(/S3 upload .* failed/)
    }
    await p.close()
  })

  it('S3F3 a truncated download is caught by the engine (size/hash) and retried; the sync converges', async () => {
    const p = make({ maxAttempts: 1 })
    for (let i = 0; i < 5; i++) await p.upload(`f${i}.md`, bytesStream(body), meta)
    const local = await mkdtemp(join(tmpdir(), 'skein-s3f-'))
    temps.push(local)
    await writeFile(join(local, 'local.md'), 'local')
    proxy.queue.push({ method: 'GET', fault: 'truncate' }, { method: 'GET', fault: 'truncate' })
    const r = await new SyncEngine({
      local,
      provider: p,
      useRemoteIndex: false,
      retry: { baseDelayMs: 1 },
    }).sync()
    expect(r.errors).toEqual([])
    expect(r.filesDownloaded).toBe(5)
    await expectConverged(local, make({ prefix: `sf${n}/` }))
    await p.close()
  })

  it('S3F4 one layer retries: under SyncEngine a failing request is sent exactly `attempts` times in all (the provider adds none), then reported', async () => {
    const p = make() // default options: the SDK itself does not retry
    const local = await mkdtemp(join(tmpdir(), 'skein-s3f-'))
    temps.push(local)
    await writeFile(join(local, 'a.md'), 'alpha')
    const engine = () =>
      new SyncEngine({ local, provider: p, useRemoteIndex: false, retry: { baseDelayMs: 1 } })
    try {
      // Two faults: the third attempt succeeds, and nothing else is sent.
      proxy.queue.push({ method: 'PUT', fault: '500' }, { method: 'PUT', fault: 'slowdown' })
      proxy.seen = {}
      const ok = await engine().sync()
      expect(ok.errors).toEqual([])
      expect(proxy.seen.PUT).toBe(3)
      // A fault that never clears: exactly DEFAULT_RETRY_OPTIONS.attempts requests, not attempts × SDK attempts.
      await writeFile(join(local, 'a.md'), 'alpha, edited')
      for (let i = 0; i < 50; i++) proxy.queue.push({ method: 'PUT', fault: '500' })
      proxy.seen = {}
      const bad = await engine().sync()
      expect(proxy.seen.PUT).toBe(DEFAULT_RETRY_OPTIONS.attempts)
      expect(bad.errors).toMatchObject([{ path: 'a.md', code: 'TRANSIENT' }])
    } finally {
      proxy.queue.length = 0
      await p.close()
    }
  })
})
