/** Blob endpoint, /healthz, /metrics and graceful close (SPEC.md PR-B1…B3, PR-O1…O3). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { sha256Hex } from '@skein/core'
import { FsBlobStore } from '@skein/server'
import type { SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { blobUrl, downloadBlob, uploadBlob } from '@skein/client'
import { newClient, serverText, startServer, waitFor } from './helpers/server-helpers.js'

describe('http endpoints', () => {
  let server: SyncServer | undefined
  let dir = ''
  afterEach(async () => {
    await server?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('PR-B1 blobs stream up and down, verified; a mismatch is 422 and an oversize body 413', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-http-'))
    server = await startServer({ blobs: new FsBlobStore(dir), maxBlobBytes: 3 * 1024 * 1024 })
    const base = server.url.replace('ws:', 'http:')
    const data = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7) & 255)
    const hash = await sha256Hex(data)
    expect(await uploadBlob({ url: base, workspace: 'ws1', hash }, data)).toBe(data.length)
    const stream = await downloadBlob({ url: base, workspace: 'ws1', hash })
    const back = new Uint8Array(await new Response(stream).arrayBuffer())
    expect(back.length).toBe(data.length)
    expect(await sha256Hex(back)).toBe(hash)
    const head = await fetch(blobUrl({ url: base, workspace: 'ws1', hash }), { method: 'HEAD' })
    expect(head.headers.get('content-length')).toBe(String(data.length))
    const wrong = await fetch(
      blobUrl({ url: base, workspace: 'ws1', hash: await sha256Hex('x') }),
      { method: 'PUT', body: data },
    )
    expect(wrong.status).toBe(422)
    // a declared oversize body is refused before a byte of it is read
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(blobUrl({ url: base, workspace: 'ws1', hash }), {
        method: 'PUT',
        headers: { 'content-length': String(64 * 1024 * 1024) },
      })
      req.on('response', (res) => resolve(res.statusCode ?? 0))
      req.on('error', reject)
      req.flushHeaders()
    })
    expect(status).toBe(413)
    expect((await fetch(`${base}/_skein/v1/blobs/ws1/nothex`)).status).toBe(400)
    expect(
      await downloadBlob({ url: base, workspace: 'ws1', hash: await sha256Hex('absent') }),
    ).toBeUndefined()
  })

  it('PR-O1 /healthz is JSON and /metrics is Prometheus text', async () => {
    server = await startServer()
    const base = server.url.replace('ws:', 'http:')
    const c = newClient(server.url)
    const h = c.open('ws1/m', new Y.Doc())
    await h.whenSynced
    const health = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ status: 'ok', connections: 1, docs: 1 })
    const text = await (await fetch(`${base}/metrics`)).text()
    expect(text).toMatch(/^skein_connections_open 1$/m)
    expect(text).toMatch(/^skein_docs_loaded 1$/m)
    expect(text).toMatch(/^skein_frames_in_total \d+$/m)
    expect(text).toMatch(/skein_store_seconds_count\{op="load"\} 1/)
    c.close()
  })

  it('PR-O2 graceful close flushes writes and closes the store; clients see 1001 and go offline', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-http-'))
    const store = new LevelDocStore(dir)
    server = await startServer({ store })
    const c = newClient(server.url)
    const doc = new Y.Doc()
    const h = c.open('ws1/g', doc)
    await h.whenSynced
    doc.getText('t').insert(0, 'flushed')
    await waitFor(() => serverText(server!, 'ws1/g') === 'flushed', 'server received the write')
    await server.close()
    await waitFor(() => c.status === 'offline', 'client offline')
    c.close()
    const reopened = new LevelDocStore(dir)
    const stored = await reopened.load('ws1/g')
    const check = new Y.Doc()
    for (const u of stored?.updates ?? []) Y.applyUpdate(check, u)
    expect(check.getText('t').toString()).toBe('flushed')
    await reopened.close()
    server = undefined
  })
})
